#include "engine/passes/stabilize.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/passes/canonicalize.h"
#include "engine/passes/pass_testing.h"
#include "engine/passes/simplify.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;

const runtime::Tensor kX =
    MakeTensor(DType::kFloat64, {2, 3}, {0.25, -0.5, 0.75, -0.125, 0.5, 0.3});

// The rewritten graph evaluated on `inputs` (for values the naive form gets wrong).
std::vector<double> EvaluateRewritten(Pass* pass, const std::vector<runtime::Tensor>& inputs,
                                      const testing::BuildFn& build) {
  std::vector<ir::Type> types;
  for (const auto& t : inputs) types.push_back(ir::Type::Of(t.dtype(), t.ndim()));
  auto built = testing::Build(types, build);
  EXPECT_TRUE(testing::Rewrite(*built.graph, {pass}).ok());
  auto out = testing::EvaluateUnoptimized(std::move(built.graph), inputs);
  EXPECT_TRUE(out.ok()) << out.status();
  std::vector<double> values;
  if (!out.ok()) return values;
  const runtime::Tensor& t = (*out)[0];
  for (int64_t i = 0; i < t.num_elements(); ++i)
    values.push_back(t.dtype() == DType::kFloat32 ? t.data<float>()[i] : t.data<double>()[i]);
  return values;
}

ir::Variable* Log(ops::NodeBuilder& b, ir::Variable* x) { return b.Apply("log", {x}); }
ir::Variable* Exp(ops::NodeBuilder& b, ir::Variable* x) { return b.Apply("exp", {x}); }
ir::Variable* Sigmoid(ops::NodeBuilder& b, ir::Variable* x) { return b.Apply("sigmoid", {x}); }

TEST(StabilizeTest, Log1pAndExpm1) {
  auto pass = MakeStabilizePass();
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kX},
      [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* one = b.Constant(1, DType::kInt8);
        return std::vector<ir::Variable*>{Log(b, b.Add(in[0], one)), Log(b, b.Sub(one, in[0])),
                                          b.Sub(Exp(b, in[0]), one)};
      },
      1e-12);
  EXPECT_EQ(out.expr, "log1p(x0); log1p(neg(x0)); expm1(x0)");
  auto tiny = MakeTensor(DType::kFloat64, {1}, {1e-20});
  auto v = EvaluateRewritten(pass.get(), {tiny}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Log(b, b.Add(b.Constant(1, DType::kFloat64), in[0]))};
  });
  ASSERT_EQ(v.size(), 1u);
  EXPECT_DOUBLE_EQ(v[0], 1e-20);  // the naive form gives 0
}

TEST(StabilizeTest, LogSigmoid) {
  auto pass = MakeStabilizePass();
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kX},
      [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* one = b.Constant(1, DType::kFloat64);
        return std::vector<ir::Variable*>{Log(b, Sigmoid(b, in[0])),
                                          Log(b, b.Sub(one, Sigmoid(b, in[0])))};
      },
      1e-12);
  EXPECT_EQ(out.expr, "neg(softplus(neg(x0))); neg(softplus(x0))");
  auto far = MakeTensor(DType::kFloat32, {2}, {-1000, 1000});
  auto v = EvaluateRewritten(pass.get(), {far}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Log(b, Sigmoid(b, in[0]))};
  });
  ASSERT_EQ(v.size(), 2u);
  EXPECT_FLOAT_EQ(v[0], -1000);  // the naive form gives -inf
  EXPECT_FLOAT_EQ(v[1], 0);
}

// tensord.nnet.softmax: exp(x - max) / sum(exp(x - max)), keepdims through dimshuffle.
ir::Variable* Softmax(ops::NodeBuilder& b, ir::Variable* x) {
  ir::Variable* m = b.Dimshuffle(b.Apply("max", {x}, {{"axis", std::vector<int64_t>{1}}}), {0, -1});
  ir::Variable* e = Exp(b, b.Sub(x, m));
  return b.Div(e, b.Dimshuffle(b.Sum(e, {1}), {0, -1}));
}

TEST(StabilizeTest, LogSoftmaxAndCrossEntropy) {
  auto pass = MakeStabilizePass();
  auto labels = MakeTensor(DType::kInt64, {2}, {2, 0});
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kX, labels},
      [](ops::NodeBuilder& b, const auto& in) {
        ir::Variable* sm = Softmax(b, in[0]);
        ir::Variable* rows = b.Apply(
            "arange",
            {b.Constant(0, DType::kInt64), b.ShapeI(in[0], 0), b.Constant(1, DType::kInt64)},
            {{"dtype", DType::kInt64}});
        ir::Variable* picked =
            b.Apply("advanced_subtensor", {sm, rows, in[1]},
                    {{"idx_list", std::vector<int64_t>{2, 0, 0, 0, 2, 0, 0, 0}}});
        return std::vector<ir::Variable*>{Log(b, sm), b.Neg(Log(b, picked))};
      },
      1e-12);
  EXPECT_EQ(out.expr.find("log(true_div"), std::string::npos) << out.expr;
  auto big = MakeTensor(DType::kFloat32, {1, 3}, {0, 200, 1000});
  auto v = EvaluateRewritten(pass.get(), {big}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Log(b, Softmax(b, in[0]))};
  });
  ASSERT_EQ(v.size(), 3u);
  EXPECT_FLOAT_EQ(v[0], -1000);  // the naive form gives -inf
  EXPECT_FLOAT_EQ(v[1], -800);
  EXPECT_FLOAT_EQ(v[2], 0);
}

TEST(StabilizeTest, LogSumExp) {
  auto pass = MakeStabilizePass();
  auto out = ExpectRewriteKeepsValues(
      {pass.get()}, {kX},
      [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{Log(b, b.Sum(Exp(b, in[0]), {1})),
                                          Log(b, b.Sum(Exp(b, in[0]), {0, 1}))};
      },
      1e-12);
  EXPECT_NE(out.expr.find("max"), std::string::npos) << out.expr;
  auto big = MakeTensor(DType::kFloat64, {2, 2}, {1000, 1000, -INFINITY, -INFINITY});
  auto v = EvaluateRewritten(pass.get(), {big}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Log(b, b.Sum(Exp(b, in[0]), {1}))};
  });
  ASSERT_EQ(v.size(), 2u);
  EXPECT_DOUBLE_EQ(v[0], 1000 + std::log(2.0));  // the naive form gives inf
  EXPECT_EQ(v[1], -INFINITY);                    // no NaN from -inf - -inf
  // Already shifted: not rewritten again.
  auto once = ExpectRewriteKeepsValues(
      {pass.get(), pass.get()}, {kX}, [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{Log(b, b.Sum(Exp(b, in[0]), {1}))};
      });
  EXPECT_EQ(once.expr.find("max(sub"), std::string::npos) << once.expr;
}

TEST(StabilizeTest, LeavesIntegerAndUnrelatedFormsAlone) {
  auto pass = MakeStabilizePass();
  auto i = MakeTensor(DType::kInt32, {3}, {1, 2, 3});
  auto out =
      ExpectRewriteKeepsValues({pass.get()}, {i, kX}, [](ops::NodeBuilder& b, const auto& in) {
        return std::vector<ir::Variable*>{
            b.Sub(in[0], b.Constant(1, DType::kInt32)),             // not exp(x) - 1
            Log(b, b.Add(in[1], b.Constant(2, DType::kFloat64))),   // not 1 + x
            Log(b, b.Sub(in[1], b.Constant(1, DType::kFloat64)))};  // x - 1, not 1 - x
      });
  EXPECT_FALSE(out.changed);
}

}  // namespace
}  // namespace tensord::passes
