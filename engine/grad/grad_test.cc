#include "engine/grad/grad.h"

#include <gtest/gtest.h>

#include "engine/grad/testing/grad_check.h"

namespace tensord::grad {
namespace {

using testing::ExpectGradMatchesFiniteDifferences;
using testing::GradCheck;
using testing::RandomTensor;

std::string Label(const ir::Variable* v) { return v->DisplayName(); }

TEST(Grad, ArithmeticMatchesFiniteDifferences) {
  GradCheck c;
  c.inputs = {RandomTensor({3, 4}, 1), RandomTensor({3, 4}, 2, 0.5, 2)};
  c.build = [](ops::NodeBuilder& b, const std::vector<ir::Variable*>& x) {
    // (x0 * x1 - x0) / x1 + exp(x0) * log(x1) + x1 ** x0
    ir::Variable* t = b.Div(b.Sub(b.Mul(x[0], x[1]), x[0]), x[1]);
    ir::Variable* u = b.Mul(b.Apply("exp", {x[0]}), b.Apply("log", {x[1]}));
    return b.Add(b.Add(t, u), b.Apply("pow", {x[1], x[0]}));
  };
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(Grad, BroadcastInputsGetSummedGradients) {
  GradCheck c;
  // A (3, 4) matrix times a (1, 4) row (broadcastable) and a (3, 1) column that is not
  // marked broadcastable: NumPy broadcasts it at run time.
  c.inputs = {RandomTensor({3, 4}, 1), RandomTensor({1, 4}, 2), RandomTensor({3, 1}, 3)};
  c.broadcastable = {{}, {true, false}, {}};
  c.build = [](ops::NodeBuilder& b, const std::vector<ir::Variable*>& x) {
    return b.Apply("mul", {x[0], x[1], x[2]});
  };
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(Grad, RefusesANonScalarCost) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  GradRequest req;
  req.cost = x;
  req.wrt = {x};
  auto r = Grad(g, req, Label);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("must be a scalar"), std::string::npos) << r.status();
}

TEST(Grad, DisconnectedInputsRaiseWarnOrGiveZeros) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Scalar(DType::kFloat64), "x");
  ir::Variable* y = g.AddInput(ir::Type::Scalar(DType::kFloat64), "y");
  ops::NodeBuilder b(g);
  ir::Variable* cost = b.Mul(x, x);
  GradRequest req;
  req.cost = cost;
  req.wrt = {x, y};
  auto raised = Grad(g, req, Label);
  ASSERT_FALSE(raised.ok());
  EXPECT_NE(raised.status().message().find("wrt[1] y"), std::string::npos) << raised.status();

  req.disconnected_inputs = OnDisconnected::kWarn;
  req.return_disconnected = ReturnDisconnected::kNone;
  auto warned = Grad(g, req, Label);
  ASSERT_TRUE(warned.ok()) << warned.status();
  EXPECT_EQ(warned->disconnected, std::vector<int>{1});
  EXPECT_EQ(warned->warnings.size(), 1u);
  EXPECT_NE(warned->gradients[0], nullptr);
  EXPECT_EQ(warned->gradients[1], nullptr);

  req.disconnected_inputs = OnDisconnected::kIgnore;
  req.return_disconnected = ReturnDisconnected::kZero;
  auto zero = Grad(g, req, Label);
  ASSERT_TRUE(zero.ok()) << zero.status();
  EXPECT_TRUE(zero->warnings.empty());
  EXPECT_EQ(zero->gradients[1]->type, y->type);
}

TEST(Grad, ConsiderConstantAndDisconnectedGradStopGradients) {
  // cost = sum(x * stop(3 * x)): d/dx = 3x (the stopped factor is a constant), not 6x.
  for (const std::string how : {"consider_constant", "disconnected_grad"}) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
    g->inputs() = {x};
    ops::NodeBuilder b(*g);
    ir::Variable* inner = b.Mul(x, b.Constant(3, DType::kFloat64));
    GradRequest req;
    if (how == "disconnected_grad") {
      inner = b.Apply("disconnected_grad", {inner});
    } else {
      req.consider_constant = {inner};
    }
    req.cost = b.Sum(b.Mul(x, inner), {0});
    req.wrt = {x};
    auto r = Grad(*g, req, Label);
    ASSERT_TRUE(r.ok()) << how << ": " << r.status();
    runtime::Tensor xv = RandomTensor({4}, 7);
    auto out = testing::Evaluate(std::move(g), r->gradients, {xv});
    ASSERT_TRUE(out.ok()) << out.status();
    for (int i = 0; i < 4; ++i)
      EXPECT_DOUBLE_EQ((*out)[0].data<double>()[i], 3 * xv.data<double>()[i]) << how;
  }
}

TEST(Grad, IntegerWrtGetsFloatZeros) {
  ir::Graph g;
  ir::Variable* n = g.AddInput(ir::Type::Of(DType::kInt32, 1), "n");
  ops::NodeBuilder b(g);
  ir::Variable* cost = b.Sum(b.Cast(n, DType::kFloat64), {0});
  GradRequest req;
  req.cost = cost;
  req.wrt = {n};
  req.float_dtype = DType::kFloat32;
  auto r = Grad(g, req, Label);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->gradients[0]->type, ir::Type::Of(DType::kFloat32, 1));
  EXPECT_TRUE(r->disconnected.empty());
}

}  // namespace
}  // namespace tensord::grad
