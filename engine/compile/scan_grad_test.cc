// scan's gradient (scan_grad: backpropagation through time) against finite differences.
#include <gtest/gtest.h>

#include "engine/compile/scan_testing.h"
#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"

namespace tensord::compile {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;
using ir::Type;
using ir::Variable;
using testing::Build;
using testing::F64;
using testing::I64;
using testing::Layout;
using testing::Node;
using testing::Scan;
using testing::SumBody;
using testing::Values;
// h_t = tanh(x_t * w + h_{t-1} * u + h_{t-2} * v); cost terms from every output.
Variable* Rnn(ops::NodeBuilder& b, const std::vector<Variable*>& in, int64_t truncate = -1) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 1), "x_t");
  auto* h2 = body->AddInput(Type::Of(DType::kFloat64, 1), "h_tm2");
  auto* h1 = body->AddInput(Type::Of(DType::kFloat64, 1), "h_tm1");
  auto* w = body->AddInput(Type::Of(DType::kFloat64, 2), "w");
  auto* u = body->AddInput(Type::Of(DType::kFloat64, 2), "u");
  auto* v = body->AddInput(Type::Of(DType::kFloat64, 0), "v");
  body->inputs() = {x, h2, h1, w, u, v};
  auto* pre = Node(*body, "add", {Node(*body, "dot", {x, w}), Node(*body, "dot", {h1, u})});
  auto* h = Node(*body, "tanh", {Node(*body, "add", {pre, Node(*body, "mul", {h2, v})})});
  body->outputs() = {h, Node(*body, "sqr", {h})};
  ops::ScanLayout l = Layout(1, {{-2, -1}}, 1);
  l.truncate_gradient = truncate;
  // in: xs (T, 3), init (2, 2), w (3, 2), u (2, 2), v ()
  auto* steps = b.ShapeI(in[0], 0);
  auto outs = b.ApplyMulti("scan", {steps, in[0], in[1], in[2], in[3], in[4]}, ops::ScanAttrs(l),
                           {std::shared_ptr<const ir::Graph>(std::move(body))});
  if (outs.empty()) return nullptr;
  return b.Add(outs[0], b.ExpandDims(b.Sum(outs[1], {1}), {1}, 2));  // (T, 2) + (T, 1)
}

TEST(ScanGrad, MatchesFiniteDifferences) {
  GradCheck check;
  check.inputs = {RandomTensor({5, 3}, 1), RandomTensor({2, 2}, 2), RandomTensor({3, 2}, 3),
                  RandomTensor({2, 2}, 4), RandomTensor({}, 5)};
  check.build = [](ops::NodeBuilder& b, const std::vector<Variable*>& in) { return Rnn(b, in); };
  ExpectGradMatchesFiniteDifferences(check);
}

// With truncate_gradient = 2, only the last two steps pass gradient back: the first rows of the
// sequence get none, and neither does the initial state.
TEST(ScanGrad, TruncateGradientStopsAfterKSteps) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<Variable*> in = {g->AddInput(Type::Of(DType::kFloat64, 2), "xs"),
                               g->AddInput(Type::Of(DType::kFloat64, 2), "init"),
                               g->AddInput(Type::Of(DType::kFloat64, 2), "w"),
                               g->AddInput(Type::Of(DType::kFloat64, 2), "u"),
                               g->AddInput(Type::Of(DType::kFloat64, 0), "v")};
  g->inputs() = in;
  ops::NodeBuilder b(*g);
  auto* cost = b.Sum(Rnn(b, in, /*truncate=*/2), {0, 1});
  auto* gx = grad::testing::GradOf(b, cost, in[0]);
  auto* ginit = grad::testing::GradOf(b, cost, in[1]);
  auto* gw = grad::testing::GradOf(b, cost, in[2]);
  auto r = grad::testing::Evaluate(
      std::move(g), {gx, ginit, gw},
      {RandomTensor({5, 3}, 1), RandomTensor({2, 2}, 2), RandomTensor({3, 2}, 3),
       RandomTensor({2, 2}, 4), RandomTensor({}, 5)});
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<double> dx = Values((*r)[0]);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(dx[i], 0) << i;  // rows 0..2
  for (int i = 9; i < 15; ++i) EXPECT_NE(dx[i], 0) << i;
  for (double v : Values((*r)[1])) EXPECT_EQ(v, 0);
  for (double v : Values((*r)[2])) EXPECT_NE(v, 0);
}

// h_t = h_{t-1} * (0.5 * c_t) + x_t with an integer shared state c (c_{t+1} = c_t + 1): the
// gradient reads c's per-step values, which the scan keeps only as a final value, so the
// gradient replays the forward scan to stack them.
Variable* CountingRnn(ops::NodeBuilder& b, const std::vector<Variable*>& in) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 1), "x_t");
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 1), "h_prev");
  auto* c = body->AddInput(Type::Of(DType::kInt64, 0), "c");
  body->inputs() = {x, h, c};
  ops::NodeBuilder bb(*body);
  auto* scale = bb.Mul(bb.Cast(c, DType::kFloat64), bb.Constant(0.5, DType::kFloat64));
  body->outputs() = {bb.Add(bb.Mul(h, scale), x), bb.Add(c, bb.Constant(1, DType::kInt64))};
  // in: xs (T, 2), init (1, 2); c starts at 1.
  auto outs = b.ApplyMulti("scan", {b.ShapeI(in[0], 0), in[0], in[1], b.Constant(1, DType::kInt64)},
                           ops::ScanAttrs(Layout(1, {{-1}}, 0, 1)),
                           {std::shared_ptr<const ir::Graph>(std::move(body))});
  return outs.empty() ? nullptr : outs[0];
}

TEST(ScanGrad, ReadsPerStepValuesOfSharedStatesThroughAReplay) {
  GradCheck check;
  check.inputs = {RandomTensor({4, 2}, 7), RandomTensor({1, 2}, 8)};
  check.build = [](ops::NodeBuilder& b, const std::vector<Variable*>& in) {
    return CountingRnn(b, in);
  };
  ExpectGradMatchesFiniteDifferences(check);
}

TEST(ScanGrad, FloatSharedStateOnTheGradientPathIsRefused) {
  auto body = std::make_unique<ir::Graph>();
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h_prev");
  auto* s = body->AddInput(Type::Of(DType::kFloat64, 0), "s");
  body->inputs() = {h, s};
  ops::NodeBuilder bb(*body);
  body->outputs() = {bb.Mul(h, s), bb.Mul(s, bb.Constant(0.5, DType::kFloat64))};
  auto g = std::make_unique<ir::Graph>();
  auto* init = g->AddInput(Type::Of(DType::kFloat64, 1), "init");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 0), "s0");
  g->inputs() = {init, s0};
  ops::NodeBuilder b(*g);
  ops::ScanLayout l = Layout(0, {{-1}}, 0, 1);
  l.name = "decay";
  auto outs = b.ApplyMulti("scan", {b.Constant(3, DType::kInt64), init, s0}, ops::ScanAttrs(l),
                           {std::shared_ptr<const ir::Graph>(std::move(body))});
  ASSERT_TRUE(b.status().ok()) << b.status();
  grad::GradRequest request;
  request.cost = b.Sum(outs[0], {0});
  request.wrt = {init};
  auto r = grad::Grad(*g, request, [](const Variable* v) { return v->DisplayName(); });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("gradient of scan 'decay': the outputs depend on shared "
                                      "state 0"),
            std::string::npos)
      << r.status();
}

}  // namespace
}  // namespace tensord::compile
