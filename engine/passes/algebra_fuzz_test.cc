// Differential test of the algebra passes: random expression graphs over mixed dtypes, ranks
// and constants, optimized by the whole algebra pipeline, must compute what the unoptimized
// graph computes (integers exactly, floats up to reassociation), with the same dtypes and shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <random>

#include "engine/backends/cpu/cast.h"
#include "engine/passes/pass_testing.h"
#include "engine/passes/pipeline.h"

namespace tensord::passes {
namespace {

using runtime::Tensor;

const DType kDTypes[] = {DType::kInt8, DType::kInt32, DType::kFloat32, DType::kFloat64};

struct Generator {
  std::mt19937_64 rng;
  explicit Generator(uint64_t seed) : rng(seed) {}
  int Pick(int n) { return static_cast<int>(rng() % n); }

  ir::Variable* Constant(ops::NodeBuilder& b) {
    const double values[] = {0, 1, -1, 2, 3, 0.5};
    DType d = kDTypes[Pick(4)];
    double v = values[Pick(IsFloat(d) ? 6 : 5)];
    if (Pick(4) > 0) return b.Constant(v, d);
    // A broadcastable constant with unit dims: droppable, but it adds rank.
    runtime::Shape shape(1 + Pick(2), 1);
    return b.graph().AddConstant(testing::MakeTensor(d, shape, {v}),
                                 ir::Type{d, std::vector<bool>(shape.size(), true)});
  }

  // Values stay finite (the rewrites that differ on inf and NaN do so by design): exp only of
  // inputs, division only by constants that are not 0, no negative powers.
  ir::Variable* Node(ops::NodeBuilder& b, std::vector<ir::Variable*>& pool, int inputs) {
    ir::Variable* x = pool[Pick(static_cast<int>(pool.size()))];
    ir::Variable* y = Pick(3) == 0 ? Constant(b) : pool[Pick(static_cast<int>(pool.size()))];
    auto is_float = [](const ir::Variable* v) { return IsFloat(v->type.dtype); };
    switch (Pick(22)) {
      case 0:
        return b.Add(x, y);
      case 1:
        return b.Sub(x, y);
      case 2:
        return b.Mul(x, y);
      case 3:
        return b.Apply("add", {x, y, Constant(b)});
      case 4:
        return b.Neg(x);
      case 5:
        return b.Apply("sqr", {x});
      case 6:
        return is_float(x) ? b.Apply("tanh", {x}) : b.Apply("abs", {x});
      case 7:  // x / (|c| + 1)
        return b.Div(x, b.Add(b.Apply("abs", {Constant(b)}), b.Constant(1, DType::kInt8)));
      case 8: {
        // No negative powers: 1 / 0 makes infinities, and x - x -> 0 differs on them by design.
        const double ks[] = {0, 1, 2, 3, 4};
        double k = ks[Pick(5)];
        return b.Apply("pow", {x, b.Constant(k, Pick(2) ? DType::kInt8 : x->type.dtype)});
      }
      case 9:  // log(1 + x^2)
        return b.Apply("log", {b.Add(b.Constant(1, DType::kInt8),
                                     b.Apply("sqr", {b.Cast(x, DType::kFloat64)}))});
      case 10: {
        int index = Pick(inputs);
        return is_float(pool[index]) ? b.Apply("exp", {pool[index]}) : b.Neg(x);
      }
      case 11: {
        if (x->type.ndim() == 2) return b.Dimshuffle(b.Dimshuffle(x, {1, 0}), {1, 0});
        std::vector<int64_t> order = {-1};
        for (int d = 0; d < x->type.ndim(); ++d) order.push_back(d);
        return b.Dimshuffle(x, order);
      }
      case 12:
        return b.Fill(x, y);
      case 14:
        return b.Sub(x, x);
      case 15:
        return b.Add(x, b.Neg(y));
      case 16:
        return Pick(2) ? b.Sub(x, b.Neg(y)) : b.Neg(b.Sub(x, y));
      case 17:
        return b.Mul(b.Constant(-1, x->type.dtype), x);
      case 18:  // casts that lose nothing first, then anything but float -> int
        return is_float(x)
                   ? b.Cast(b.Cast(x, DType::kFloat64), DType::kFloat32)
                   : b.Cast(b.Cast(x, DType::kInt32), Pick(2) ? DType::kInt8 : DType::kFloat32);
      case 19:  // stabilization changes values where the naive form loses them: not here
        return b.Apply("sigmoid", {b.Cast(x, DType::kFloat64)});
      case 20: {  // log(softmax(input)) over the last axis
        ir::Variable* in = pool[Pick(inputs)];
        if (!is_float(in) || in->type.ndim() == 0) return b.Neg(x);
        const int last = in->type.ndim() - 1;
        std::vector<int64_t> keep;
        for (int d = 0; d < last; ++d) keep.push_back(d);
        keep.push_back(-1);
        ir::Variable* e = b.Apply("exp", {in});
        return b.Apply("log", {b.Div(e, b.Dimshuffle(b.Sum(e, {last}), keep))});
      }
      case 21:  // the shape of an elementwise gradient
        return b.SumToLike(b.Mul(b.Fill(x, b.Constant(1, DType::kFloat32)), x), x);
      default:
        return x->type.ndim() > 0 ? b.Sum(b.Mul(x, b.Constant(1, DType::kInt8)), {0})
                                  : b.Mul(b.Neg(b.Neg(x)), Constant(b));
    }
  }
};

Tensor Random(std::mt19937_64& rng, DType d, runtime::Shape shape) {
  std::vector<double> values;
  int64_t n = runtime::NumElements(shape);
  for (int64_t i = 0; i < n; ++i) {
    double u = static_cast<double>(rng() % 2001) / 1000.0 - 1;  // [-1, 1]
    values.push_back(IsFloat(d) ? u * 2 : std::round(u * 100));
  }
  return testing::MakeTensor(d, shape, values.empty() ? std::vector<double>{0} : values);
}

TEST(AlgebraFuzzTest, RandomGraphsKeepTheirValues) {
  const uint64_t kSeeds = getenv("FUZZ_SEEDS") ? std::stoull(getenv("FUZZ_SEEDS")) : 300;
  int compared = 0;
  const std::vector<std::string> algebra = {
      "merge", "constant_fold", "canonicalize", "simplify", "stabilize", "specialize", "dce"};
  std::vector<std::string> excluding;
  for (const std::string& name : Pipeline::AllPassNames())
    if (std::find(algebra.begin(), algebra.end(), name) == algebra.end()) excluding.push_back(name);
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    Generator gen(seed);
    std::vector<ir::Type> types;
    std::vector<Tensor> values;
    const runtime::Shape shapes[] = {{2, 3}, {3}, {}};
    for (int i = 0; i < 3; ++i) {
      DType d = kDTypes[gen.Pick(4)];
      runtime::Shape s = shapes[gen.Pick(3)];
      types.push_back(ir::Type::Of(d, static_cast<int>(s.size())));
      values.push_back(Random(gen.rng, d, s));
    }
    const uint64_t build_seed = gen.rng();
    auto build = [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
      Generator g(build_seed);
      std::vector<ir::Variable*> pool = in;
      for (int i = 0; i < 12; ++i) {
        ir::Variable* v = g.Node(b, pool, 3);
        if (!b.status().ok()) return std::vector<ir::Variable*>{};
        pool.push_back(v);
      }
      return std::vector<ir::Variable*>{pool.end() - 3, pool.end()};
    };
    // Skip graphs the builder refused (e.g. neg of bool, incompatible broadcasts at build).
    ir::Graph probe_graph;
    ops::NodeBuilder probe(probe_graph);
    std::vector<ir::Variable*> probe_in;
    for (const auto& t : types) probe_in.push_back(probe_graph.AddInput(t));
    build(probe, probe_in);
    if (!probe.status().ok()) continue;

    auto before = testing::Build(types, build);
    auto after = testing::Build(types, build);
    const std::string text = testing::Exprs(*before.graph);
    double rtol = 1e-10;
    for (const auto& v : before.graph->variables())
      if (v->type.dtype == DType::kFloat32) rtol = 1e-4;
    Pipeline pipeline({.mode = "FAST_RUN", .excluding = excluding, .verify_each = true});
    ASSERT_TRUE(pipeline.Run(*after.graph).ok()) << "seed " << seed << ": " << text;
    const std::string optimized = testing::Exprs(*after.graph);
    auto want = testing::EvaluateUnoptimized(std::move(before.graph), values);
    if (!want.ok()) continue;  // e.g. shapes that do not broadcast: nothing to compare
    auto got = testing::EvaluateUnoptimized(std::move(after.graph), values);
    ASSERT_TRUE(got.ok()) << "seed " << seed << ": " << got.status() << "\n"
                          << text << "\n"
                          << optimized;
    ++compared;
    for (size_t k = 0; k < want->size(); ++k) {
      testing::ExpectSameValues(
          (*want)[k], (*got)[k], rtol,
          absl::StrCat("seed ", seed, " output ", k, "\n", text, "\n-> ", optimized));
    }
  }
  EXPECT_GT(compared, static_cast<int>(kSeeds) / 2);
  std::cout << compared << " of " << kSeeds << " random graphs compared\n";
}

}  // namespace
}  // namespace tensord::passes
