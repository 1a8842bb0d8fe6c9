#include "engine/passes/canonicalize.h"

#include <gtest/gtest.h>

#include "engine/passes/merge.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

const runtime::Tensor kA = MakeTensor(DType::kFloat64, {4}, {0.5, -1.5, 2.25, 3});
const runtime::Tensor kB = MakeTensor(DType::kFloat64, {4}, {1.25, 2, -0.75, 4});
const runtime::Tensor kC = MakeTensor(DType::kFloat64, {4}, {-2, 0.125, 5, 1});

TEST(CanonicalizeTest, FlattensAndSortsAddAndMul) {
  auto pass = MakeCanonicalizePass();
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kA, kB, kC}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* two = b.Constant(2, DType::kFloat64);
        return std::vector<ir::Variable*>{b.Add(b.Add(two, in[2]), b.Add(in[1], in[0])),
                                          b.Mul(in[1], b.Mul(in[0], two))};
      });
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "add(x0, x1, x2, 2); mul(x0, x1, 2)");
}

TEST(CanonicalizeTest, SortingLetsMergeSeeCommutedNodes) {
  auto canon = MakeCanonicalizePass();
  auto merge = MakeMergePass();
  auto out = ExpectRewriteKeepsValues(
      {canon.get(), merge.get()}, {kA, kB}, [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{b.Sub(b.Mul(in[0], in[1]), b.Mul(in[1], in[0]))};
      });
  EXPECT_EQ(out.expr, "sub(mul(x0, x1), mul(x0, x1))");
  // ... and merge made them one node.
  const ir::Type vec = ir::Type::Of(DType::kFloat64, 1);
  auto built = testing::Build({vec, vec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Sub(b.Mul(in[0], in[1]), b.Mul(in[1], in[0]))};
  });
  ASSERT_TRUE(testing::Rewrite(*built.graph, {canon.get(), merge.get()}).ok());
  const ir::Apply* sub = built.graph->outputs()[0]->owner;
  EXPECT_EQ(sub->inputs[0], sub->inputs[1]);
}

TEST(CanonicalizeTest, DoesNotFlattenASharedOrDifferentlyTypedInner) {
  auto pass = MakeCanonicalizePass();
  auto i8 = MakeTensor(DType::kInt8, {4}, {100, 27, -128, 5});
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kA, kB, i8, i8}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* shared = b.Add(in[0], in[1]);
        // int8 + int8 wraps before the float add: flattening would not wrap.
        ir::Variable* narrow = b.Add(in[2], in[3]);
        return std::vector<ir::Variable*>{b.Add(shared, in[0]), b.Mul(shared, in[1]),
                                          b.Add(narrow, in[0])};
      });
  EXPECT_EQ(out.expr, "add(x0, add(x0, x1)); mul(x1, add(x0, x1)); add(x0, add(x2, x3))");
}

TEST(CanonicalizeTest, PushesNegationIntoSubAndDiv) {
  auto pass = MakeCanonicalizePass();
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kA, kB}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* x = in[0];
        ir::Variable* y = in[1];
        return std::vector<ir::Variable*>{b.Add(x, b.Neg(y)),  // x + -y
                                          b.Add(b.Neg(x), y),  // -x + y
                                          b.Sub(x, b.Neg(y)),  // x - -y
                                          b.Neg(b.Sub(x, y)),  // -(x - y)
                                          b.Mul(x, b.Constant(-1, DType::kFloat64)),
                                          b.Div(b.Neg(x), b.Neg(y)),
                                          b.Mul(b.Neg(x), b.Neg(y))};
      });
  EXPECT_EQ(out.expr,
            "sub(x0, x1); sub(x1, x0); add(x0, x1); sub(x1, x0); neg(x0); true_div(x0, x1); "
            "mul(x0, x1)");
}

TEST(CanonicalizeTest, KeepsIntegerNegationWhereItMayHaveWrapped) {
  auto pass = MakeCanonicalizePass();
  auto i8 = MakeTensor(DType::kInt8, {4}, {-128, 3, 7, -5});
  auto i16 = MakeTensor(DType::kInt16, {4}, {1000, -3, 2, 9});
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {i16, i8}, [](ops::NodeBuilder& b, const auto& in) {
        // neg(int8 -128) is -128: moving it into the int16 add would give +128.
        return std::vector<ir::Variable*>{b.Add(in[0], b.Neg(in[1])),
                                          b.Div(b.Neg(in[1]), b.Neg(in[1]))};
      });
  EXPECT_EQ(out.expr, "add(x0, neg(x1)); true_div(neg(x1), neg(x1))");
}

// A chain add(add(add(x, y), y), y)... flattens in one rewrite at its outermost node: flattening
// level by level copied the gathered inputs each time (quadratic in the chain's length).
TEST(CanonicalizeTest, AChainFlattensInOneRewrite) {
  const ir::Type vec = ir::Type::Of(DType::kFloat64, 1);
  auto built = testing::Build({vec, vec}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* sum = in[0];
    for (int i = 0; i < 5000; ++i) sum = b.Add(sum, in[1]);
    return std::vector<ir::Variable*>{sum};
  });
  ASSERT_EQ(built.graph->applies().size(), 5000u);
  ASSERT_TRUE(MakeCanonicalizePass()->Run(*built.graph).ok());
  // One flattened node (and at most one more that sorts its inputs), however long the chain.
  EXPECT_LE(built.graph->applies().size(), 5002u);
  EXPECT_EQ(built.graph->outputs()[0]->owner->inputs.size(), 5001u);
}

// A node that left its flattening to an enclosing mul or add is sorted after all when a rule
// turns that consumer into another op (mul(x, -1) -> neg(x), add(x, neg(y)) -> sub(x, y)).
TEST(CanonicalizeTest, NodesLeftToARewrittenConsumerAreStillSorted) {
  auto pass = MakeCanonicalizePass();
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kA, kB, kC}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* minus_one = b.Constant(-1, DType::kFloat64);
        return std::vector<ir::Variable*>{b.Mul(b.Mul(b.Mul(in[1], in[0]), minus_one), in[2]),
                                          b.Add(b.Add(b.Add(in[1], in[0]), b.Neg(in[2])), in[0])};
      });
  EXPECT_EQ(out.expr.find("mul(x1, x0"), std::string::npos) << out.expr;
  EXPECT_EQ(out.expr.find("add(x1, x0"), std::string::npos) << out.expr;
}

}  // namespace
}  // namespace tensord::passes
