#include "engine/passes/merge.h"

#include <gtest/gtest.h>

#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

TEST(MergeTest, MergesEqualNodesAndConstants) {
  auto pass = MakeMergePass();
  auto x = MakeTensor(DType::kFloat64, {3}, {1, 2, 3});
  auto out = ExpectRewriteKeepsValues({pass.get()}, {x}, [](ops::NodeBuilder& b, const auto& in) {
    // Two exp(x), two constants 2: one of each remains, and the sub sees the same input twice.
    ir::Variable* a = b.Mul(b.Apply("exp", {in[0]}), b.Constant(2, DType::kFloat64));
    ir::Variable* c = b.Mul(b.Apply("exp", {in[0]}), b.Constant(2, DType::kFloat64));
    return std::vector<ir::Variable*>{b.Sub(a, c)};
  });
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "sub(mul(exp(x0), 2), mul(exp(x0), 2))");
  auto built =
      testing::Build({ir::Type::Of(DType::kFloat64, 1)}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* a = b.Apply("exp", {in[0]});
        ir::Variable* c = b.Apply("exp", {in[0]});
        return std::vector<ir::Variable*>{b.Sub(a, c), c};
      });
  ASSERT_TRUE(testing::Rewrite(*built.graph, {pass.get()}).ok());
  const ir::Apply* sub = built.graph->outputs()[0]->owner;
  EXPECT_EQ(sub->inputs[0], sub->inputs[1]);
  EXPECT_EQ(built.graph->outputs()[1], sub->inputs[0]);
  EXPECT_EQ(built.graph->applies().size(), 2u);
}

TEST(MergeTest, KeepsNodesThatDiffer) {
  auto pass = MakeMergePass();
  auto built =
      testing::Build({ir::Type::Of(DType::kFloat64, 2)}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* two = b.Constant(2, DType::kFloat64);
        return std::vector<ir::Variable*>{
            b.Sum(in[0], {0}), b.Sum(in[0], {1}),                                   // attrs
            b.Add(b.Constant(1, DType::kFloat64), b.Constant(1, DType::kFloat32)),  // dtypes
            b.Sub(in[0], two), b.Sub(two, in[0])};                                  // order
      });
  auto changed = testing::Rewrite(*built.graph, {pass.get()});
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_FALSE(*changed);
  EXPECT_EQ(built.graph->applies().size(), 5u);
}

TEST(MergeTest, MergesConstantsByContentNotByScalarValue) {
  auto pass = MakeMergePass();
  auto built = testing::Build({}, [](ops::NodeBuilder& b, const auto&) {
    ir::Graph& g = b.graph();
    auto v = [&](std::vector<double> values) {
      return g.AddConstant(MakeTensor(DType::kFloat64, {2}, values),
                           ir::Type::Of(DType::kFloat64, 1));
    };
    return std::vector<ir::Variable*>{v({1, 2}), v({1, 2}), v({2, 1})};
  });
  ASSERT_TRUE(testing::Rewrite(*built.graph, {pass.get()}).ok());
  const auto& outs = built.graph->outputs();
  EXPECT_EQ(outs[0], outs[1]);
  EXPECT_NE(outs[0], outs[2]);
}

}  // namespace
}  // namespace tensord::passes
