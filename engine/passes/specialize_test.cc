#include "engine/passes/specialize.h"

#include <gtest/gtest.h>

#include "engine/passes/pass_testing.h"
#include "engine/passes/rule_set.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

TEST(SpecializeTest, PowBySmallIntegers) {
  auto pass = MakeSpecializePass();
  auto x = MakeTensor(DType::kFloat32, {4}, {0.5, -1.5, 3, -0.25});
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {x},
      [](ops::NodeBuilder& b, const auto& in) {
        std::vector<ir::Variable*> outs;
        for (double k : {2.0, 3.0, 4.0, 1.0, 0.0, -1.0, -2.0, 0.5, 5.0})
          outs.push_back(b.Apply("pow", {in[0], b.Constant(k, DType::kFloat32)}));
        return outs;
      },
      1e-6);
  EXPECT_EQ(out.expr,
            "sqr(x0); mul(sqr(x0), x0); sqr(sqr(x0)); x0; fill(x0, 1); true_div(1, x0); "
            "true_div(1, sqr(x0)); pow(x0, 0.5); pow(x0, 5)");
}

TEST(SpecializePass, IntegerPowersWrapLikeTheKernel) {
  auto pass = MakeSpecializePass();
  auto x = MakeTensor(DType::kInt8, {4}, {3, -7, 100, -128});
  auto out = ExpectRewriteKeepsValues({pass.get()}, {x}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{
        b.Apply("pow", {in[0], b.Constant(2, DType::kInt8)}),
        b.Apply("pow", {in[0], b.Constant(3, DType::kInt16)}),   // computed in int16
        b.Apply("pow", {in[0], b.Constant(-1, DType::kInt8)})};  // truncating: kept
  });
  EXPECT_EQ(out.expr, "sqr(x0); mul(sqr(cast{int16}(x0)), cast{int16}(x0)); pow(x0, -1)");
}

TEST(SpecializeTest, MulOfItselfIsSqr) {
  auto pass = MakeSpecializePass();
  auto x = MakeTensor(DType::kFloat64, {3}, {0.5, -1.5, 3});
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {x, x}, [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{b.Mul(in[0], in[0]),
                                          b.Apply("mul", {in[1], in[0], in[0]})};
      });
  EXPECT_EQ(out.expr, "sqr(x0); mul(x1, sqr(x0))");
}

TEST(SpecializeTest, ProductsOfEqualFactorsSquareEveryPairAtOnce) {
  auto pass = MakeSpecializePass();
  auto x = MakeTensor(DType::kFloat64, {4}, {0.5, -1.5, 1.25, -0.75});
  auto y = MakeTensor(DType::kFloat64, {4}, {2, 0.5, -1, 3});
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {x, y},
      [](ops::NodeBuilder& b, const auto& in) {
        std::vector<ir::Variable*> eight(8, in[0]), seven(7, in[0]);
        seven.push_back(in[1]);
        return std::vector<ir::Variable*>{b.Apply("mul", eight), b.Apply("mul", seven)};
      },
      1e-12);
  EXPECT_EQ(out.expr, "sqr(sqr(sqr(x0))); mul(sqr(sqr(x0)), sqr(x0), x0, x1)");
}

// A product of n equal factors is O(log n) rewrites (pairing one at a time was cubic).
TEST(SpecializeTest, ALongProductTakesLogarithmicallyManyRewrites) {
  const ir::Type vec = ir::Type::Of(DType::kFloat64, 1);
  auto built = testing::Build({vec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Apply("mul", std::vector<ir::Variable*>(4096, in[0]))};
  });
  auto pass = MakeSpecializePass();
  ASSERT_TRUE(testing::Rewrite(*built.graph, {pass.get()}).ok());
  EXPECT_EQ(static_cast<RuleSet*>(pass.get())->fired().at("mul(x, x) -> sqr(x)"), 12);
}

}  // namespace
}  // namespace tensord::passes
