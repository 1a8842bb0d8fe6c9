// Differential test of the whole FAST_RUN pipeline, fusion, gemm and inplace included: random
// elementwise graphs (mixed float dtypes and ranks, comparisons and switch, views, products plus
// sums) must compute what the unoptimized graph computes, run after run (the executable then
// reuses and donates buffers), and must leave the caller's inputs untouched.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>

#include "engine/backends/cpu/cast.h"
#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/passes/pass_testing.h"
#include "engine/passes/pipeline.h"

namespace tensord::passes {
namespace {

using runtime::Tensor;
using V = std::vector<ir::Variable*>;

struct Generator {
  std::mt19937_64 rng;
  explicit Generator(uint64_t seed) : rng(seed) {}
  int Pick(int n) { return static_cast<int>(rng() % n); }

  ir::Variable* Constant(ops::NodeBuilder& b) {
    const double values[] = {0, 1, -1, 2, 0.5, -0.25};
    return b.Constant(values[Pick(6)], Pick(3) ? DType::kFloat32 : DType::kFloat64);
  }

  // Values stay finite: exp only of inputs, division only by 1 + |c|.
  ir::Variable* Node(ops::NodeBuilder& b, const V& pool, int inputs) {
    ir::Variable* x = pool[Pick(static_cast<int>(pool.size()))];
    ir::Variable* y = Pick(4) == 0 ? Constant(b) : pool[Pick(static_cast<int>(pool.size()))];
    ir::Variable* z = pool[Pick(static_cast<int>(pool.size()))];
    auto matrix = [](const ir::Variable* v) { return v->type.ndim() == 2; };
    switch (Pick(20)) {
      case 0:
        return b.Add(x, y);
      case 1:
        return b.Sub(x, y);
      case 2:
        return b.Mul(x, y);
      case 3:
        return b.Apply("add", {x, y, z});
      case 4:
        return b.Neg(x);
      case 5:
        return b.Apply("sqr", {x});
      case 6:
        return b.Apply("tanh", {x});
      case 7:
        return b.Div(x, b.Add(b.Apply("abs", {y}), b.Constant(1, DType::kFloat32)));
      case 8:
        return b.Apply("exp", {pool[Pick(inputs)]});
      case 9:
        return b.Apply("sigmoid", {x});
      case 10:
        return b.Apply("softplus", {x});
      case 11:
        return b.Apply(Pick(2) ? "maximum" : "minimum", {x, y});
      case 12:
        return b.Switch(b.Apply(Pick(2) ? "gt" : "le", {x, y}), x, z);
      case 13:
        return b.Apply("clip", {x, b.Constant(-1, DType::kFloat32), Constant(b)});
      case 14:
        return b.Fill(x, y);
      case 15:
        return matrix(x) ? b.Dimshuffle(x, {1, 0}) : b.Neg(x);
      case 16:
        return b.Mul(x, b.Apply("gt", {y, z}));  // a mask used as a number
      case 17:                                   // z + a * dot(x, y) (the gemm pass's pattern)
        if (!matrix(x) || !matrix(y)) return b.Apply("abs", {x});
        return b.Add(z, b.Mul(Constant(b), b.Apply("dot", {x, y})));
      case 18:
        if (!matrix(x) || !matrix(y)) return b.Apply("cos", {x});
        return b.Sub(b.Apply("dot", {x, y}), z);
      default:
        return b.Apply("log1p", {b.Apply("sqr", {x})});
    }
  }
};

Tensor Random(std::mt19937_64& rng, DType d, const runtime::Shape& shape) {
  std::vector<double> values;
  for (int64_t i = 0; i < runtime::NumElements(shape); ++i)
    values.push_back(static_cast<double>(rng() % 2001) / 500.0 - 2);  // [-2, 2]
  return testing::MakeTensor(d, shape, values.empty() ? std::vector<double>{0} : values);
}

TEST(FusionFuzzTest, RandomGraphsThroughTheWholePipeline) {
  const uint64_t kSeeds = getenv("FUZZ_SEEDS") ? std::stoull(getenv("FUZZ_SEEDS")) : 300;
  int compared = 0, fused = 0, donating = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generator gen(seed);
    std::vector<ir::Type> types;
    std::vector<Tensor> values;
    const runtime::Shape shapes[] = {{3, 3}, {3, 3}, {3}, {}, {1, 3}};
    for (int i = 0; i < 4; ++i) {
      const DType d = gen.Pick(3) ? DType::kFloat32 : DType::kFloat64;
      const runtime::Shape& s = shapes[gen.Pick(5)];
      types.push_back(ir::Type::Of(d, static_cast<int>(s.size())));
      values.push_back(Random(gen.rng, d, s));
    }
    const uint64_t build_seed = gen.rng();
    auto build = [&](ops::NodeBuilder& b, const V& in) {
      Generator g(build_seed);
      V pool = in;
      for (int i = 0; i < 14; ++i) {
        ir::Variable* v = g.Node(b, pool, 4);
        if (!b.status().ok()) return V{};
        pool.push_back(v);
      }
      return V{pool.end() - 3, pool.end()};
    };
    ir::Graph probe_graph;
    ops::NodeBuilder probe(probe_graph);
    V probe_in;
    for (const auto& t : types) probe_in.push_back(probe_graph.AddInput(t));
    build(probe, probe_in);
    if (!probe.status().ok()) continue;

    auto before = testing::Build(types, build);
    auto after = testing::Build(types, build);
    const std::string text = testing::Exprs(*before.graph);
    double rtol = 1e-9;
    for (const auto& v : before.graph->variables())
      if (v->type.dtype == DType::kFloat32) rtol = 2e-4;
    Pipeline pipeline({.mode = "FAST_RUN", .excluding = {}, .verify_each = true});
    ASSERT_TRUE(pipeline.Run(*after.graph).ok()) << "seed " << seed << ": " << text;
    after.graph->RemoveDeadNodes();
    const std::string optimized = testing::Exprs(*after.graph);
    for (const auto& a : after.graph->applies()) fused += a->op == "composite";
    auto want = testing::EvaluateUnoptimized(std::move(before.graph), values);
    if (!want.ok()) continue;  // shapes that do not broadcast: nothing to compare

    compile::CompileOptions options;
    options.optimizer_excluding = Pipeline::AllPassNames();
    auto prepared = compile::PrepareFunction(std::move(after.graph), {}, {}, options);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    auto exe = compile::BuildExecutable(*std::move(prepared));
    ASSERT_TRUE(exe.ok()) << "seed " << seed << ": " << exe.status() << "\n" << optimized;
    for (const auto& ins : (*exe)->instructions()) donating += ins.donate >= 0;
    std::vector<Tensor> copies(values.size());  // the caller's inputs, to check after the runs
    for (size_t i = 0; i < values.size(); ++i)
      ASSERT_TRUE(cpu::CastInto(values[i], values[i].dtype(), copies[i]).ok());
    for (int run = 0; run < 3; ++run) {
      auto got = (*exe)->Run(values, {});
      ASSERT_TRUE(got.ok()) << "seed " << seed << ": " << got.status() << "\n"
                            << text << "\n"
                            << optimized;
      for (size_t k = 0; k < want->size(); ++k) {
        testing::ExpectSameValues((*want)[k], got->outputs[k], rtol,
                                  absl::StrCat("seed ", seed, " run ", run, " output ", k, "\n",
                                               text, "\n-> ", optimized));
      }
    }
    for (size_t i = 0; i < values.size(); ++i)
      testing::ExpectSameValues(copies[i], values[i], 0,
                                absl::StrCat("seed ", seed, " input ", i, " was written"));
    ++compared;
  }
  EXPECT_GT(compared, static_cast<int>(kSeeds) / 2);
  EXPECT_GT(fused, compared);  // more than one composite per graph on average
  EXPECT_GT(donating, compared / 2);
  std::cout << compared << " of " << kSeeds << " random graphs compared; " << fused
            << " composites, " << donating << " donating instructions\n";
}

}  // namespace
}  // namespace tensord::passes
