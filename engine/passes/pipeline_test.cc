#include "engine/passes/pipeline.h"

#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::Build;
using testing::Exprs;
using testing::MakeTensor;

const ir::Type kMat = ir::Type::Of(DType::kFloat32, 2);

// The passes this file tests; later ones (fusion, gemm, inplace) are excluded so expressions
// stay readable.
const std::vector<std::string> kAlgebra = {"merge",     "constant_fold", "canonicalize", "simplify",
                                           "stabilize", "specialize",    "dce"};

std::vector<std::string> NotAlgebra(std::vector<std::string> more = {}) {
  for (const std::string& name : Pipeline::AllPassNames())
    if (std::find(kAlgebra.begin(), kAlgebra.end(), name) == kAlgebra.end()) more.push_back(name);
  return more;
}

// log(1 + x * 1) + (y - y) with a duplicated exp: every stage has something to do.
std::vector<ir::Variable*> Naive(ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
  ir::Variable* x = in[0];
  ir::Variable* one = b.Constant(1, DType::kFloat32);
  ir::Variable* l = b.Apply("log", {b.Add(one, b.Mul(x, one))});
  ir::Variable* e = b.Add(b.Apply("exp", {x}), b.Apply("exp", {x}));
  return {b.Add(l, b.Sub(in[1], in[1])), b.Apply("pow", {e, b.Constant(2, DType::kInt8)})};
}

TEST(PipelineTest, FastRunRewritesAndKeepsValues) {
  Pipeline fast_run({.mode = "FAST_RUN", .excluding = NotAlgebra(), .verify_each = true});
  auto built = Build({kMat, kMat}, Naive);
  std::vector<PassRecord> trace;
  ASSERT_TRUE(fast_run.Run(*built.graph, &trace).ok());
  EXPECT_EQ(Exprs(*built.graph), "add(log1p(x0), fill(x1, 0)); sqr(add(exp(x0), exp(x0)))");
  EXPECT_EQ(trace.size(), fast_run.passes().size());
  auto x = MakeTensor(DType::kFloat32, {2, 2}, {0.5, 1, 2, 3});
  auto y = MakeTensor(DType::kFloat32, {2, 2}, {4, 5, 6, 7});
  auto want = testing::EvaluateUnoptimized(Build({kMat, kMat}, Naive).graph, {x, y});
  auto got = testing::EvaluateUnoptimized(std::move(built.graph), {x, y});
  ASSERT_TRUE(want.ok() && got.ok());
  for (int k = 0; k < 2; ++k)
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR((*want)[k].data<float>()[i], (*got)[k].data<float>()[i], 1e-4);
}

TEST(PipelineTest, FastCompileOnlyMergesAndRemovesDeadCode) {
  Pipeline fast_compile({.mode = "FAST_COMPILE", .excluding = {}, .verify_each = true});
  std::vector<std::string> names;
  for (const auto& p : fast_compile.passes()) names.push_back(p->name());
  EXPECT_EQ(names.front(), "merge");
  for (const std::string& n :
       {"constant_fold", "canonicalize", "simplify", "stabilize", "specialize"})
    EXPECT_EQ(std::count(names.begin(), names.end(), n), 0) << n;
  auto built = Build({kMat, kMat}, Naive);
  ASSERT_TRUE(fast_compile.Run(*built.graph).ok());
  EXPECT_EQ(Exprs(*built.graph),
            "add(log(add(1, mul(x0, 1))), sub(x1, x1)); pow(add(exp(x0), exp(x0)), 2)");
}

TEST(PipelineTest, ExcludingSkipsAPassEverywhereItRuns) {
  Pipeline no_stabilize(
      {.mode = "FAST_RUN", .excluding = NotAlgebra({"stabilize"}), .verify_each = true});
  for (const auto& p : no_stabilize.passes()) EXPECT_NE(p->name(), "stabilize");
  auto built = Build({kMat, kMat}, Naive);
  ASSERT_TRUE(no_stabilize.Run(*built.graph).ok());
  EXPECT_NE(Exprs(*built.graph).find("log(add(x0, 1))"), std::string::npos) << Exprs(*built.graph);
  Pipeline no_merge({.mode = "FAST_RUN", .excluding = {"merge"}, .verify_each = false});
  for (const auto& p : no_merge.passes()) EXPECT_NE(p->name(), "merge");
}

TEST(PipelineTest, AllPassNamesListsEachPassOnce) {
  auto names = Pipeline::AllPassNames();
  for (const char* n :
       {"merge", "constant_fold", "canonicalize", "simplify", "stabilize", "specialize", "dce"}) {
    EXPECT_EQ(std::count(names.begin(), names.end(), n), 1) << n;
  }
}

// Compilation runs the pipeline after the cache key, keeps update values and shared variables
// valid, and refuses unknown pass names.
TEST(PipelineTest, CompilationOptimizesAfterTheKey) {
  auto make = [](std::vector<std::string> excluding) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(kMat, "x");
    ir::Variable* w = g->AddShared(kMat, "w-id", "w");
    ir::Variable* unused = g->AddShared(kMat, "u-id", "u");
    g->inputs() = {x};
    ops::NodeBuilder b(*g);
    ir::Variable* one = b.Constant(1, DType::kFloat32);
    // u * 0 is not simplified (NaN * 0), so u stays; w's update is w * 1 -> w.
    g->outputs() = {b.Apply("log", {b.Add(x, one)}), b.Mul(unused, b.Constant(0, DType::kFloat32))};
    compile::CompileOptions options;
    options.optimizer_excluding = NotAlgebra(std::move(excluding));
    return compile::PrepareFunction(std::move(g), {{w, b.Mul(w, one)}}, {}, options);
  };
  auto prepared = make({});
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  const std::string key = prepared->canonical.key;
  auto exe = compile::BuildExecutable(*std::move(prepared));
  ASSERT_TRUE(exe.ok()) << exe.status();
  EXPECT_EQ(Exprs((*exe)->graph()), "log1p(x); mul(u, 0)");
  EXPECT_EQ((*exe)->nodes_before_optimization(), 4);
  EXPECT_GT((*exe)->optimizer_ns(), 0);
  auto x = MakeTensor(DType::kFloat32, {1, 2}, {1e-10f, 1});
  auto w = MakeTensor(DType::kFloat32, {1, 2}, {3, 4});
  auto u = MakeTensor(DType::kFloat32, {1, 2}, {5, 6});
  // Shared variables bind in canonical order (first use): u, then w.
  ASSERT_EQ((*exe)->shared_params().size(), 2u);
  EXPECT_EQ((*exe)->shared_params()[0].name, "u");
  auto run = (*exe)->Run({x}, {u, w});
  ASSERT_TRUE(run.ok()) << run.status();
  EXPECT_FLOAT_EQ(run->outputs[0].data<float>()[0], 1e-10f);
  EXPECT_EQ(run->updates[0].data<float>()[1], 4);

  auto excluded = make({"stabilize"});
  ASSERT_TRUE(excluded.ok());
  EXPECT_NE(excluded->canonical.key, key);
  auto bad = make({"no_such_pass"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("stabilize"), std::string::npos);
}

}  // namespace
}  // namespace tensord::passes

namespace tensord::passes {
namespace {

// A long random elementwise graph: the whole pipeline stays far from quadratic (the per-pass
// trace is printed for the record).
TEST(PipelineTest, ALargeElementwiseGraphOptimizesQuickly) {
  const ir::Type vec = ir::Type::Of(DType::kFloat32, 1);
  auto build = [](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
    std::vector<ir::Variable*> pool = in;
    uint64_t seed = 12345;
    auto next = [&](uint64_t n) {
      seed = seed * 6364136223846793005ull + 1442695040888963407ull;
      return (seed >> 33) % n;
    };
    ir::Variable* one = b.Constant(1, DType::kFloat32);
    for (int i = 0; i < 1000; ++i) {
      ir::Variable* a = pool.back();
      ir::Variable* c = pool[next(pool.size())];
      switch (next(6)) {
        case 0:
          pool.push_back(b.Add(a, c));
          break;
        case 1:
          pool.push_back(b.Mul(a, c));
          break;
        case 2:
          pool.push_back(b.Sub(a, c));
          break;
        case 3:
          pool.push_back(b.Apply("tanh", {a}));
          break;
        case 4:
          pool.push_back(b.Apply("log", {b.Add(one, b.Mul(a, a))}));
          break;
        default:
          pool.push_back(b.Div(a, b.Add(one, b.Mul(c, c))));
          break;
      }
    }
    return std::vector<ir::Variable*>{pool.back()};
  };
  auto built = testing::Build(std::vector<ir::Type>(10, vec), build);
  Pipeline pipeline({.mode = "FAST_RUN", .excluding = {}, .verify_each = false});
  std::vector<PassRecord> trace;
  const size_t before = built.graph->applies().size();
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(pipeline.Run(*built.graph, &trace).ok());
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::string record;
  for (const PassRecord& r : trace)
    absl::StrAppend(&record, " ", r.name, "=", r.duration_ns / 1000, "us");
  std::cout << before << " nodes -> " << built.graph->applies().size() << " in " << ms
            << " ms:" << record << "\n";
  EXPECT_LT(ms, 1000);
}

}  // namespace
}  // namespace tensord::passes
