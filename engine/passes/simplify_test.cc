#include "engine/passes/simplify.h"

#include <gtest/gtest.h>

#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

const runtime::Tensor kX = MakeTensor(DType::kFloat32, {2, 3}, {0.5, 1.5, 2, 3, 4.25, 7});
const runtime::Tensor kY = MakeTensor(DType::kFloat32, {2, 3}, {-1, 2, -3, 4, 0.5, 6});

ir::Variable* Ones(ops::NodeBuilder& b, DType d, runtime::Shape shape) {
  return b.graph().AddConstant(MakeTensor(d, shape, {1}),
                               ir::Type{d, std::vector<bool>(shape.size(), true)});
}

TEST(SimplifyTest, DropsIdentityElements) {
  auto pass = MakeSimplifyPass();
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kX, kY}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* x = in[0];
        return std::vector<ir::Variable*>{b.Mul(x, b.Constant(1, DType::kFloat32)),
                                          b.Apply("add", {b.Constant(0, DType::kInt8), x, in[1]}),
                                          b.Sub(x, b.Constant(0, DType::kFloat32)),
                                          b.Div(x, b.Constant(1, DType::kFloat32)),
                                          b.Sub(b.Constant(0, DType::kFloat32), x),
                                          b.Mul(x, Ones(b, DType::kFloat32, {1, 1}))};
      });
  EXPECT_EQ(out.expr, "x0; add(x0, x1); x0; x0; neg(x0); x0");
}

TEST(SimplifyTest, AnIdentityOfAWiderDtypeBecomesACast) {
  auto pass = MakeSimplifyPass();
  auto i = MakeTensor(DType::kInt8, {3}, {100, 27, -128});
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {i, i}, [](ops::NodeBuilder& b, const auto& in) {
        // In float64, 100 * 100 does not wrap: the remaining mul must compute in float64.
        return std::vector<ir::Variable*>{
            b.Mul(in[0], b.Constant(1, DType::kFloat64)),
            b.Apply("mul", {in[0], in[1], b.Constant(1, DType::kFloat64)})};
      });
  EXPECT_EQ(out.expr, "cast{float64}(x0); mul(cast{float64}(x0), cast{float64}(x1))");
}

TEST(SimplifyTest, KeepsConstantsThatBroadcast) {
  auto pass = MakeSimplifyPass();
  auto v = MakeTensor(DType::kFloat32, {3}, {1, 2, 3});
  auto out = ExpectRewriteKeepsValues({pass.get()}, {v}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Graph& g = b.graph();
    // zeros((2, 3)) + v is a (2, 3) matrix, not v; a (1, 3) zero row has a length-3 dim.
    ir::Variable* zeros =
        g.AddConstant(MakeTensor(DType::kFloat32, {2, 3}, {0}), ir::Type::Of(DType::kFloat32, 2));
    ir::Variable* row = g.AddConstant(MakeTensor(DType::kFloat32, {1, 3}, {0}),
                                      ir::Type{DType::kFloat32, {true, false}});
    return std::vector<ir::Variable*>{b.Add(in[0], zeros), b.Add(in[0], row)};
  });
  EXPECT_FALSE(out.changed);
}

TEST(SimplifyTest, SubOfItselfIsZeros) {
  auto pass = MakeSimplifyPass();
  auto out = ExpectRewriteKeepsValues({pass.get()}, {kX}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Sub(in[0], in[0])};
  });
  EXPECT_EQ(out.expr, "fill(x0, 0)");
}

TEST(SimplifyTest, InversePairsCancel) {
  auto pass = MakeSimplifyPass();
  auto i = MakeTensor(DType::kInt16, {2, 3}, {1, 2, 3, 4, 5, 6});
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kX, i},
      [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{
            b.Apply("exp", {b.Apply("log", {in[0]})}), b.Apply("log", {b.Apply("exp", {in[0]})}),
            b.Neg(b.Neg(in[0])), b.Apply("exp", {b.Apply("log", {in[1]})})};
      },
      1e-6);
  EXPECT_EQ(out.expr, "x0; x0; x0; cast{float32}(x1)");
}

TEST(SimplifyTest, MergesDimshuffleAndReshapeChains) {
  auto pass = MakeSimplifyPass();
  auto out = ExpectRewriteKeepsValues({pass.get()}, {kX}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* t = b.Dimshuffle(b.Dimshuffle(in[0], {1, 0}), {1, 0});
    ir::Variable* e = b.Dimshuffle(b.Dimshuffle(in[0], {1, -1, 0}), {0, 2, 1});
    ir::Variable* r =
        b.Apply("reshape",
                {b.Apply("reshape", {in[0], b.IntVector({3, 2})}, {{"ndim", int64_t{2}}}),
                 b.IntVector({6})},
                {{"ndim", int64_t{1}}});
    return std::vector<ir::Variable*>{t, e, r};
  });
  EXPECT_EQ(out.expr, "x0; dimshuffle{1,0,x}(x0); reshape(x0, const(1,))");
}

TEST(SimplifyTest, RemovesUselessCastsReductionsAndGradHelpers) {
  auto pass = MakeSimplifyPass();
  auto i = MakeTensor(DType::kInt32, {2, 3}, {1, -2, 3, 4, 300, 6});
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kX, i}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Attrs none = {{"axis", std::vector<int64_t>{}}};
        return std::vector<ir::Variable*>{
            b.Cast(b.Cast(in[1], DType::kInt64), DType::kInt8),    // int32 -> int64 is exact
            b.Cast(b.Cast(in[1], DType::kFloat64), DType::kBool),  // ... and int32 -> float64
            b.Cast(b.Cast(in[0], DType::kInt8), DType::kFloat32),  // float -> int8 is not
            b.Apply("sum", {in[1]}, none),
            b.Apply("max", {in[0]}, none),
            b.Apply("zero_grad", {in[0]}),
            b.Apply("disconnected_grad", {in[0]}),
            b.Apply("grad_clip",
                    {in[0], b.Constant(-1, DType::kFloat32), b.Constant(1, DType::kFloat32)})};
      });
  EXPECT_EQ(out.expr,
            "cast{int8}(x1); cast{bool}(x1); cast{float32}(cast{int8}(x0)); cast{int64}(x1); x0; "
            "x0; x0; x0");
}

TEST(SimplifyTest, FillAndSumToLikeWhereShapesAreImplied) {
  auto pass = MakeSimplifyPass();
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {kX, kY}, [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* x = in[0];
        ir::Variable* ones = b.Fill(x, b.Constant(1, DType::kFloat32));
        // The gradient shape of x * y wrt x: mul(fill(x, 1), y) summed to x's shape.
        ir::Variable* g = b.SumToLike(b.Mul(ones, x), x);
        return std::vector<ir::Variable*>{g, b.SumToLike(b.Mul(ones, in[1]), x)};
      });
  EXPECT_EQ(out.expr, "x0; sum_to_like(mul(fill(x0, 1), x1), x0)");
}

}  // namespace
}  // namespace tensord::passes
