#include "engine/passes/shape_of.h"

#include <gtest/gtest.h>

#include "engine/passes/dce.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

const runtime::Tensor kX = MakeTensor(DType::kFloat32, {2, 3}, {0.5, 1.5, 2, 3, 4.25, 7});
const runtime::Tensor kY = MakeTensor(DType::kFloat32, {3, 4}, {1, 2, 3});
const runtime::Tensor kRow = MakeTensor(DType::kFloat32, {1, 3}, {1, 2, 3});

std::vector<Pass*> Passes(std::unique_ptr<Pass>& shape_of) {
  shape_of = MakeShapeOfPass();
  return {shape_of.get()};
}

TEST(ShapeOfTest, AValueNeededOnlyForItsShapeIsNotComputed) {
  std::unique_ptr<Pass> pass;
  auto out = ExpectRewriteKeepsValues(Passes(pass), {kX}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* e = b.Apply("exp", {b.Apply("tanh", {in[0]})});
    return std::vector<ir::Variable*>{b.ShapeI(e, 1), b.Shape(e)};
  });
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "shape_i(x0); make_vector(shape_i(x0), shape_i(x0))");
}

TEST(ShapeOfTest, ContractionsReductionsAndDimshufflesFollowTheirRules) {
  std::unique_ptr<Pass> pass;
  auto out =
      ExpectRewriteKeepsValues(Passes(pass), {kX, kY}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* d = b.Apply("dot", {in[0], in[1]});
        ir::Variable* s = b.Sum(b.Dimshuffle(d, {1, -1, 0}), {2});
        return std::vector<ir::Variable*>{b.Shape(d), b.Shape(s)};
      });
  EXPECT_EQ(out.expr, "make_vector(shape_i(x0), shape_i(x1)); make_vector(shape_i(x1), 1)");
}

TEST(ShapeOfTest, BroadcastDimsAreOneAndAgreeingDimsPickTheNonOne) {
  std::unique_ptr<Pass> pass;
  // x (2, 3) against a (1, 3) row that is not marked broadcastable: dim 0 is whichever is not 1.
  auto out =
      ExpectRewriteKeepsValues(Passes(pass), {kX, kRow}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* col =
            b.Dimshuffle(b.Apply("sum", {in[0]}, {{"axis", std::vector<int64_t>{1}}}), {0, -1});
        return std::vector<ir::Variable*>{b.Shape(b.Add(in[0], in[1])),
                                          b.ShapeI(b.Mul(col, in[0]), 1)};
      });
  EXPECT_NE(out.expr.find("switch"), std::string::npos) << out.expr;
  EXPECT_EQ(out.expr.find("add("), std::string::npos) << out.expr;
}

TEST(ShapeOfTest, ReshapeWithMinusOneDividesTheSize) {
  std::unique_ptr<Pass> pass;
  auto out = ExpectRewriteKeepsValues(Passes(pass), {kX}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* r =
        b.Apply("reshape", {b.Apply("exp", {in[0]}), b.IntVector({3, -1})}, {{"ndim", int64_t{2}}});
    return std::vector<ir::Variable*>{b.Shape(r)};
  });
  EXPECT_EQ(out.expr.find("exp("), std::string::npos) << out.expr;
  EXPECT_NE(out.expr.find("int_div"), std::string::npos) << out.expr;
}

// Each value's shape is computed once: a residual chain h = h + tanh(h) has h's shape at every
// level (no growing switch expressions), and none of the chain is computed.
TEST(ShapeOfTest, ShapesAreSharedAlongAChain) {
  std::unique_ptr<Pass> pass;
  auto out = ExpectRewriteKeepsValues(Passes(pass), {kX}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* h = in[0];
    for (int i = 0; i < 12; ++i) h = b.Add(h, b.Apply("tanh", {h}));
    return std::vector<ir::Variable*>{b.Shape(h)};
  });
  EXPECT_EQ(out.expr, "make_vector(shape_i(x0), shape_i(x0))");
}

TEST(ShapeOfTest, OpsWithoutARuleKeepTheirShapeNode) {
  std::unique_ptr<Pass> pass;
  const runtime::Tensor n = MakeTensor(DType::kInt64, {}, {5});
  auto out = ExpectRewriteKeepsValues(Passes(pass), {n}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* r =
        b.Apply("arange", {b.Constant(0, DType::kInt64), in[0], b.Constant(1, DType::kInt64)},
                {{"dtype", DType::kInt64}});
    return std::vector<ir::Variable*>{b.Shape(r)};
  });
  EXPECT_FALSE(out.changed);
}

}  // namespace
}  // namespace tensord::passes
