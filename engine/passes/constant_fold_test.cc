#include "engine/passes/constant_fold.h"

#include <gtest/gtest.h>

#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

TEST(ConstantFoldTest, FoldsChainsOfConstantNodes) {
  auto pass = MakeConstantFoldPass();
  auto x = MakeTensor(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto out = ExpectRewriteKeepsValues({pass.get()}, {x}, [](ops::NodeBuilder& b, const auto& in) {
    // exp(2 * 3) is a constant; dimshuffle of a constant too (a view, folded to its own copy).
    ir::Variable* c =
        b.Apply("exp", {b.Mul(b.Constant(2, DType::kFloat32), b.Constant(3, DType::kFloat32))});
    ir::Variable* v = b.graph().AddConstant(MakeTensor(DType::kFloat32, {3}, {1, 2, 3}),
                                            ir::Type::Of(DType::kFloat32, 1));
    return std::vector<ir::Variable*>{b.Add(in[0], c), b.Mul(in[0], b.Dimshuffle(v, {-1, 0}))};
  });
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "add(x0, 403.429); mul(x0, const(1, 3))");
}

TEST(ConstantFoldTest, FoldsOutputsAndMultiOutputNodes) {
  auto pass = MakeConstantFoldPass();
  auto out = ExpectRewriteKeepsValues({pass.get()}, {}, [](ops::NodeBuilder& b, const auto&) {
    ir::Variable* v = b.graph().AddConstant(MakeTensor(DType::kInt32, {4}, {3, 9, 2, 9}),
                                            ir::Type::Of(DType::kInt32, 1));
    auto both = b.ApplyMulti("max_and_argmax", {v});
    return std::vector<ir::Variable*>{both[0], both[1],
                                      b.Apply("sort", {v}, {{"axis", int64_t{0}}})};
  });
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "9; 1; const(4,)");
}

TEST(ConstantFoldTest, LeavesLargeOutputsAndUnboundedOpsToRunTime) {
  auto pass = MakeConstantFoldPass(/*max_bytes=*/1024);
  auto built = testing::Build({}, [](ops::NodeBuilder& b, const auto&) {
    ir::Graph& g = b.graph();
    ir::Variable* col = g.AddConstant(MakeTensor(DType::kFloat64, {100, 1}, {1}),
                                      ir::Type{DType::kFloat64, {false, true}});
    ir::Variable* row = g.AddConstant(MakeTensor(DType::kFloat64, {1, 100}, {1}),
                                      ir::Type{DType::kFloat64, {true, false}});
    // 100 x 100 float64 = 80 KB from two 800-byte inputs: over the cap.
    ir::Variable* outer = b.Add(col, row);
    // alloc's size comes from values, not shapes: never folded.
    ir::Variable* big =
        b.Apply("alloc", {b.Constant(0, DType::kFloat32), b.Constant(100000, DType::kInt64),
                          b.Constant(100000, DType::kInt64)});
    return std::vector<ir::Variable*>{outer, big};
  });
  auto changed = testing::Rewrite(*built.graph, {pass.get()});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(built.graph->applies().size(), 2u);
}

TEST(ConstantFoldTest, AKernelErrorIsLeftForTheRun) {
  auto pass = MakeConstantFoldPass();
  auto built = testing::Build({}, [](ops::NodeBuilder& b, const auto&) {
    ir::Graph& g = b.graph();
    ir::Variable* a =
        g.AddConstant(MakeTensor(DType::kFloat64, {2}, {1}), ir::Type::Of(DType::kFloat64, 1));
    ir::Variable* c =
        g.AddConstant(MakeTensor(DType::kFloat64, {3}, {1}), ir::Type::Of(DType::kFloat64, 1));
    return std::vector<ir::Variable*>{b.Add(a, c)};  // shapes (2,) and (3,) do not broadcast
  });
  auto changed = testing::Rewrite(*built.graph, {pass.get()});
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  auto run = testing::EvaluateUnoptimized(std::move(built.graph), {});
  EXPECT_FALSE(run.ok());
}

TEST(ConstantFoldTest, SizeBoundsFromShapes) {
  ir::Graph g;
  ops::NodeBuilder b(g);
  auto c = [&](runtime::Shape s) {
    return g.AddConstant(MakeTensor(DType::kFloat64, s, {1}),
                         ir::Type::Of(DType::kFloat64, static_cast<int>(s.size())));
  };
  ir::Variable* dot = b.Apply("dot", {c({5, 2}), c({2, 7})});
  EXPECT_EQ(FoldedElementsBound(*dot->owner), 35);
  ir::Variable* join = b.Apply("join", {c({5}), c({7})}, {{"axis", int64_t{0}}});
  EXPECT_EQ(FoldedElementsBound(*join->owner), 12);
  ir::Variable* arange = b.Apply(
      "arange",
      {b.Constant(0, DType::kInt64), b.Constant(10, DType::kInt64), b.Constant(1, DType::kInt64)},
      {{"dtype", DType::kInt64}});
  EXPECT_FALSE(FoldedElementsBound(*arange->owner).has_value());
}

}  // namespace
}  // namespace tensord::passes
