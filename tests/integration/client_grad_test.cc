// Session::Grad through the real server: gradient values against hand-derived formulas,
// training with updates, theano.grad's options, and the errors bad requests get.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/integration/client_ops_fixture.h"

namespace tensord::client {
namespace {

using ClientGradTest = ClientOpsTest;

// cost = sum((x w - y)^2): d cost / d w = 2 x^T (x w - y).
TEST_F(ClientGradTest, LeastSquaresGradientMatchesTheFormula) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x"), w = g.Vector("w"), y = g.Vector("y");
  Var cost = Sum(Sqr(Dot(x, w) - y));
  auto grads = session_->Grad(cost, {w});
  ASSERT_TRUE(grads.ok()) << grads.status();
  const std::vector<std::vector<double>> xs = {{1, 2}, {3, -1}, {0.5, 4}};
  const Doubles ws = {0.3, -0.2}, ys = {1, 0, -1};
  Doubles want(2, 0);
  for (size_t i = 0; i < 3; ++i) {
    double r = xs[i][0] * ws[0] + xs[i][1] * ws[1] - ys[i];
    for (size_t j = 0; j < 2; ++j) want[j] += 2 * xs[i][j] * r;
  }
  auto out = Eval(g, {x, w, y}, {(*grads)[0]},
                  {*HostTensor::Matrix<double>(xs), HostTensor::Vector<double>(ws),
                   HostTensor::Vector<double>(ys)});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], want, {2});
}

TEST_F(ClientGradTest, GradientDescentOnASharedVariableConverges) {
  GraphBuilder g(kFloat64);
  auto w = session_->CreateShared("w", HostTensor::Vector<double>({0, 0}));
  ASSERT_TRUE(w.ok()) << w.status();
  Var wv = w->In(g);
  Var target = g.Vector("target");
  Var cost = Sum(Sqr(wv - target));
  auto grads = session_->Grad(cost, {wv});
  ASSERT_TRUE(grads.ok()) << grads.status();
  auto step = session_->Compile(g, {target}, {cost}, {{wv, wv - 0.25 * (*grads)[0]}});
  ASSERT_TRUE(step.ok()) << step.status();
  double first = 0, last = 0;
  for (int i = 0; i < 20; ++i) {
    auto out = step->Run({HostTensor::Vector<double>({1, -2})});
    ASSERT_TRUE(out.ok()) << out.status();
    (i == 0 ? first : last) = (*out)[0].ToDoubles()[0];
  }
  EXPECT_NEAR(first, 5.0, 1e-12);  // w starts at 0
  EXPECT_LT(last, 1e-9);           // each step halves the distance
  auto value = w->GetValue();
  ASSERT_TRUE(value.ok()) << value.status();
  ExpectNear(*value, {1, -2}, {2}, 1e-6);
}

TEST_F(ClientGradTest, DisconnectedInputsFollowTheOptions) {
  GraphBuilder g(kFloat64);
  Var x = g.Scalar("x"), unused = g.Scalar("unused");
  Var cost = x * x;
  auto raised = session_->Grad(cost, {x, unused});
  ASSERT_FALSE(raised.ok());
  EXPECT_EQ(raised.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(raised.status().message().find("'unused'"), std::string::npos) << raised.status();

  std::vector<std::string> warnings;
  GradOptions options;
  options.disconnected_inputs = "warn";
  options.return_disconnected = "None";
  options.warnings = &warnings;
  auto none = session_->Grad(cost, {x, unused}, options);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_TRUE((*none)[0].valid());
  EXPECT_FALSE((*none)[1].valid());
  EXPECT_EQ(warnings.size(), 1u);

  options.disconnected_inputs = "ignore";
  options.return_disconnected = "zero";
  auto zero = session_->Grad(cost, {x, unused}, options);
  ASSERT_TRUE(zero.ok()) << zero.status();
  // zeros_like(unused) still needs `unused` (for its shape), as in Theano.
  auto out = Eval(g, {x, unused}, {(*zero)[0], (*zero)[1]},
                  {HostTensor::Scalar<double>(3), HostTensor::Scalar<double>(5)});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], {6});
  ExpectNear(out[1], {0});
}

TEST_F(ClientGradTest, KnownGradsAndConsiderConstant) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  Var y = x * x;
  GradOptions seeded;
  seeded.known_grads = {{y, g.Vector("gy")}};
  Var gy = seeded.known_grads[0].second;
  auto lop = session_->Grad(Var(), {x}, seeded);  // no cost: y's gradient is given
  ASSERT_TRUE(lop.ok()) << lop.status();
  auto out = Eval(g, {x, gy}, {(*lop)[0]},
                  {HostTensor::Vector<double>({1, 2}), HostTensor::Vector<double>({10, 100})});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], {20, 400}, {2});  // 2 x gy

  GradOptions constant;
  Var scale = x * 3.0;
  constant.consider_constant = {scale};
  auto grads = session_->Grad(Sum(x * scale), {x}, constant);
  ASSERT_TRUE(grads.ok()) << grads.status();
  out = Eval(g, {x}, {(*grads)[0]}, {HostTensor::Vector<double>({1, 2})});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], {3, 6}, {2});  // scale is a constant: d/dx = scale, not 6x
}

TEST_F(ClientGradTest, BadRequestsGetClearErrors) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  auto vector_cost = session_->Grad(x * 2.0, {x});
  ASSERT_FALSE(vector_cost.ok());
  EXPECT_EQ(vector_cost.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(vector_cost.status().message().find("must be a scalar"), std::string::npos)
      << vector_cost.status();

  GradOptions bad;
  bad.disconnected_inputs = "sometimes";
  auto bad_option = session_->Grad(Sum(x), {x}, bad);
  ASSERT_FALSE(bad_option.ok());
  EXPECT_NE(bad_option.status().message().find("disconnected_inputs"), std::string::npos)
      << bad_option.status();

  GradOptions mismatched;
  mismatched.known_grads = {{Sum(x), g.Vector("wrong_rank")}};
  auto bad_known = session_->Grad(Var(), {x}, mismatched);
  ASSERT_FALSE(bad_known.ok());
  EXPECT_NE(bad_known.status().message().find("ndim must match"), std::string::npos)
      << bad_known.status();
}

}  // namespace
}  // namespace tensord::client
