// scan and its gradient on the CPU executor, against loops written out by hand in C++, and
// finite differences for the gradient.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/backends/cpu/broadcast.h"
#include "engine/compile/testing_util.h"
#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"
#include "engine/ir/fingerprint.h"
#include "engine/ir/proto_convert.h"
#include "engine/ops/defs/scan_layout.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;
using ir::Type;
using ir::Variable;
using runtime::Tensor;
using testing::Build;
using testing::Node;

Tensor F64(runtime::Shape shape, std::vector<double> v) {
  Tensor t(DType::kFloat64, std::move(shape));
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t;
}

Tensor I64(int64_t v) {
  Tensor t(DType::kInt64, {});
  *t.data<int64_t>() = v;
  return t;
}

std::vector<double> Values(const Tensor& t) {
  Tensor c(t.dtype(), t.shape());
  cpu::StridedCopyAny(t, t.strides(), c);
  return std::vector<double>(c.data<double>(), c.data<double>() + c.num_elements());
}

ops::ScanLayout Layout(int n_seqs, std::vector<std::vector<int64_t>> taps, int n_nit = 0,
                       int n_shared = 0) {
  ops::ScanLayout l;
  l.n_seqs = n_seqs;
  l.taps = std::move(taps);
  l.n_mit = static_cast<int>(l.taps.size());
  l.n_nit = n_nit;
  l.n_shared = n_shared;
  return l;
}

// A scan node over `inputs` (n_steps first) with `body`; its outputs.
std::vector<Variable*> Scan(ir::Graph& g, const ops::ScanLayout& l, std::vector<Variable*> inputs,
                            std::unique_ptr<ir::Graph> body, absl::Status* error = nullptr) {
  ops::NodeBuilder b(g);
  auto outs = b.ApplyMulti("scan", std::move(inputs), ops::ScanAttrs(l),
                           {std::shared_ptr<const ir::Graph>(std::move(body))});
  if (error != nullptr) {
    *error = b.status();
  } else {
    EXPECT_TRUE(b.status().ok()) << b.status();
  }
  return outs;
}

// body(x_t, h_prev) = h_prev + x_t: a cumulative sum.
std::unique_ptr<ir::Graph> SumBody(DType dtype = DType::kFloat64) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(dtype, 0), "x_t");
  auto* h = body->AddInput(Type::Of(dtype, 0), "h_prev");
  body->inputs() = {x, h};
  body->outputs() = {Node(*body, "add", {h, x})};
  return body;
}

TEST(Scan, CumulativeSum) {
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  g->inputs() = {n, a, s0};
  g->outputs() = Scan(*g, Layout(1, {{-1}}), {n, a, s0}, SumBody());
  auto exe = Build(std::move(g));
  auto r = exe->Run({I64(3), F64({4}, {0, 3, 5, 100}), F64({1}, {1})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{1, 4, 9}));
  // Zero steps: an empty output; the same executable runs again with other lengths.
  r = exe->Run({I64(0), F64({0}, {}), F64({1}, {7})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].shape(), (runtime::Shape{0}));
}

// Fibonacci with taps [-2, -1], no sequence; a nit-sot output (2 * f) and a non-sequence.
TEST(Scan, TapsNitSotAndNonSequences) {
  auto body = std::make_unique<ir::Graph>();
  auto* f2 = body->AddInput(Type::Of(DType::kFloat64, 0), "f_tm2");
  auto* f1 = body->AddInput(Type::Of(DType::kFloat64, 0), "f_tm1");
  auto* k = body->AddInput(Type::Of(DType::kFloat64, 0), "k");
  body->inputs() = {f2, f1, k};
  auto* next = Node(*body, "add", {f2, f1});
  body->outputs() = {next, Node(*body, "mul", {next, k})};
  auto g = std::make_unique<ir::Graph>();
  auto* init = g->AddInput(Type::Of(DType::kFloat64, 1), "init");
  auto* kk = g->AddInput(Type::Of(DType::kFloat64, 0), "k");
  g->inputs() = {init, kk};
  ops::NodeBuilder b(*g);
  auto* steps = b.Constant(6, DType::kInt64);
  g->outputs() = Scan(*g, Layout(0, {{-2, -1}}, 1), {steps, init, kk}, std::move(body));
  auto exe = Build(std::move(g));
  // Three initial rows: only the first two are used (Theano's init[:2]).
  auto r = exe->Run({F64({3}, {0, 1, 99}), F64({}, {2})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{1, 2, 3, 5, 8, 13}));
  EXPECT_EQ(Values(r->outputs[1]), (std::vector<double>{2, 4, 6, 10, 16, 26}));
  auto short_init = exe->Run({F64({1}, {0}), F64({}, {2})}, {});
  ASSERT_FALSE(short_init.ok());
  EXPECT_NE(short_init.status().message().find("has 1 rows but its taps need 2"), std::string::npos)
      << short_init.status();
}

// A shared state (final value only) counting steps, and an until condition stopping the loop.
TEST(Scan, SharedStateAndUntil) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  auto* count = body->AddInput(Type::Of(DType::kFloat64, 0), "count");
  body->inputs() = {x, count};
  ops::NodeBuilder bb(*body);
  auto* sq = Node(*body, "mul", {x, x});
  auto* next = Node(*body, "add", {count, bb.Constant(1, DType::kFloat64)});
  auto* stop = Node(*body, "gt", {sq, bb.Constant(10, DType::kFloat64)});
  body->outputs() = {sq, next, stop};
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* xs = g->AddInput(Type::Of(DType::kFloat64, 1), "xs");
  auto* c0 = g->AddInput(Type::Of(DType::kFloat64, 0), "c0");
  g->inputs() = {n, xs, c0};
  ops::ScanLayout l = Layout(1, {}, 1, 1);
  l.until = true;
  g->outputs() = Scan(*g, l, {n, xs, c0}, std::move(body));
  auto exe = Build(std::move(g));
  auto r = exe->Run({I64(5), F64({5}, {1, 2, 4, 1, 1}), F64({}, {0})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{1, 4, 16}));  // stops after 16 > 10
  EXPECT_EQ(Values(r->outputs[1]), (std::vector<double>{3}));
}

// An until condition is read as Python reads it: a float 0.5 is true (stop after step 0).
TEST(Scan, UntilConditionIsTruthy) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  body->inputs() = {x};
  body->outputs() = {x, x};  // the value, and the condition
  auto g = std::make_unique<ir::Graph>();
  auto* xs = g->AddInput(Type::Of(DType::kFloat64, 1), "xs");
  g->inputs() = {xs};
  ops::NodeBuilder b(*g);
  ops::ScanLayout l = Layout(1, {}, 1);
  l.until = true;
  g->outputs() = Scan(*g, l, {b.Constant(3, DType::kInt64), xs}, std::move(body));
  auto exe = Build(std::move(g));
  auto r = exe->Run({F64({3}, {0, 0.5, 7})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{0, 0.5}));
}

TEST(Scan, RunTimeErrorsNameTheProblem) {
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  g->inputs() = {n, a, s0};
  ops::ScanLayout l = Layout(1, {{-1}});
  l.name = "acc";
  g->outputs() = Scan(*g, l, {n, a, s0}, SumBody());
  auto exe = Build(std::move(g));
  auto negative = exe->Run({I64(-1), F64({2}, {1, 2}), F64({1}, {0})}, {});
  ASSERT_FALSE(negative.ok());
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("scan 'acc': n_steps is -1"), std::string::npos)
      << negative.status();
  auto too_short = exe->Run({I64(3), F64({2}, {1, 2}), F64({1}, {0})}, {});
  ASSERT_FALSE(too_short.ok());
  EXPECT_NE(too_short.status().message().find("sequence 0 has 2 rows but the scan runs 3 steps"),
            std::string::npos)
      << too_short.status();
}

// The connection pattern follows reads through states: b reads a's state, a reads w, so w
// reaches both outputs; v, never read, reaches none; c is a nit-sot reading only x.
TEST(Scan, ConnectionPatternFollowsStates) {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  auto* a = body->AddInput(Type::Of(DType::kFloat64, 0), "a_prev");
  auto* b = body->AddInput(Type::Of(DType::kFloat64, 0), "b_prev");
  auto* w = body->AddInput(Type::Of(DType::kFloat64, 0), "w");
  auto* v = body->AddInput(Type::Of(DType::kFloat64, 0), "v");
  body->inputs() = {x, a, b, w, v};
  ops::NodeBuilder bb(*body);
  body->outputs() = {bb.Mul(a, w), bb.Add(b, a), bb.Mul(x, x)};
  auto g = std::make_unique<ir::Graph>();
  std::vector<Variable*> in = {g->AddInput(Type::Of(DType::kInt64, 0), "n"),
                               g->AddInput(Type::Of(DType::kFloat64, 1), "xs"),
                               g->AddInput(Type::Of(DType::kFloat64, 1), "a0"),
                               g->AddInput(Type::Of(DType::kFloat64, 1), "b0"),
                               g->AddInput(Type::Of(DType::kFloat64, 0), "w"),
                               g->AddInput(Type::Of(DType::kFloat64, 0), "v")};
  auto outs = Scan(*g, Layout(1, {{-1}, {-1}}, 1), in, std::move(body));
  ASSERT_EQ(outs.size(), 3u);
  const ir::Apply& node = *outs[0]->owner;
  auto p = node.def->connection_pattern(node);
  using Row = std::vector<bool>;                // outputs a, b, c
  EXPECT_EQ(p[1], (Row{false, false, true}));   // xs
  EXPECT_EQ(p[2], (Row{true, true, false}));    // a0
  EXPECT_EQ(p[3], (Row{false, true, false}));   // b0
  EXPECT_EQ(p[4], (Row{true, true, false}));    // w, through a's state into b
  EXPECT_EQ(p[5], (Row{false, false, false}));  // v
}

// A run whose deadline passed or whose caller cancelled stops within 64 steps.
TEST(Scan, StopsWhenTheRunIsInterrupted) {
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  g->inputs() = {n, a, s0};
  g->outputs() = Scan(*g, Layout(1, {{-1}}), {n, a, s0}, SumBody());
  auto exe = Build(std::move(g));
  std::vector<double> ones(200, 1.0);
  auto run = [&] { return exe->Run({I64(200), F64({200}, ones), F64({1}, {0})}, {}); };
  {
    runtime::ScopedInterrupt past({.deadline = std::chrono::steady_clock::now()});
    auto r = run();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
    EXPECT_NE(r.status().message().find("step 63"), std::string::npos) << r.status();
  }
  {
    runtime::ScopedInterrupt gone({.cancelled = [] { return true; }});
    EXPECT_EQ(run().status().code(), absl::StatusCode::kCancelled);
  }
  EXPECT_TRUE(run().ok());  // no interrupt installed: runs to the end
}

// A step returning a state of another shape than its initial state fails at that step.
TEST(Scan, StepShapeMismatchFails) {
  auto body = std::make_unique<ir::Graph>();
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 1), "h");
  body->inputs() = {h};
  body->outputs() = {Node(*body, "join", {h, h}, {{"axis", int64_t{0}}})};
  auto g = std::make_unique<ir::Graph>();
  auto* init = g->AddInput(Type::Of(DType::kFloat64, 2), "init");
  g->inputs() = {init};
  ops::NodeBuilder b(*g);
  g->outputs() = Scan(*g, Layout(0, {{-1}}), {b.Constant(2, DType::kInt64), init}, std::move(body));
  auto exe = Build(std::move(g));
  auto r = exe->Run({F64({1, 2}, {1, 2})}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("step 0: the step function returned shape (4,)"),
            std::string::npos)
      << r.status();
}

TEST(Scan, CompileTimeErrors) {
  auto g = std::make_unique<ir::Graph>();
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s32 = g->AddInput(Type::Of(DType::kFloat32, 1), "s0");
  auto* s64 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  ops::NodeBuilder b(*g);
  auto* n = b.Constant(3, DType::kInt64);
  absl::Status error;
  // The state is float32 but the step returns float64.
  Scan(*g, Layout(1, {{-1}}), {n, a, s32}, SumBody(), &error);
  EXPECT_NE(error.message().find("input 1 (recurrent output 0 at t-1) has type "
                                 "TensorType(float64, scalar) but TensorType(float32, scalar)"),
            std::string::npos)
      << error;
  // A negative constant n_steps.
  Scan(*g, Layout(1, {{-1}}), {b.Constant(-2, DType::kInt64), a, s64}, SumBody(), &error);
  EXPECT_NE(error.message().find("n_steps is -2"), std::string::npos) << error;
  // The body takes two inputs; the scan passes three (a non-sequence too many).
  Scan(*g, Layout(1, {{-1}}), {n, a, s64, a}, SumBody(), &error);
  EXPECT_NE(error.message().find("takes 2 inputs but the scan passes 3"), std::string::npos)
      << error;
  // A recurrent output whose step returns the wrong dtype.
  auto body = std::make_unique<ir::Graph>();
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h");
  body->inputs() = {h};
  body->outputs() = {Node(*body, "cast", {h}, {{"dtype", DType::kFloat32}})};
  auto* init = g->AddInput(Type::Of(DType::kFloat64, 1), "init");
  Scan(*g, Layout(0, {{-1}}), {n, init}, std::move(body), &error);
  EXPECT_NE(error.message().find("has dtype float64 but the step function returns float32 for it"),
            std::string::npos)
      << error;
}

// body(x_t, h_prev) = h_prev * x_t: a cumulative product.
std::unique_ptr<ir::Graph> ProductBody() {
  auto body = std::make_unique<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h_prev");
  body->inputs() = {x, h};
  body->outputs() = {Node(*body, "mul", {h, x})};
  return body;
}

// Scans that differ only in their bodies are different nodes to the merge pass and the cache
// key; the bodies survive a trip through the wire format.
TEST(Scan, BodiesArePartOfIdentityAndWireFormat) {
  auto make = [](bool second_is_product) {
    auto g = std::make_unique<ir::Graph>();
    auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
    auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
    auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
    g->inputs() = {n, a, s0};
    auto sum = Scan(*g, Layout(1, {{-1}}), {n, a, s0}, SumBody());
    auto other =
        Scan(*g, Layout(1, {{-1}}), {n, a, s0}, second_is_product ? ProductBody() : SumBody());
    g->outputs() = {sum[0], other[0]};
    return g;
  };
  const std::string same = ir::Canonicalize(*make(false), {}, "").key;
  const std::string differ = ir::Canonicalize(*make(true), {}, "").key;
  EXPECT_NE(same, differ);
  v1::Graph wire;
  ir::GraphToProto(*make(true), &wire);
  auto decoded = ir::GraphFromProto(wire);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(ir::Canonicalize(decoded->graph, {}, "").key, differ);
  auto exe = Build(std::make_unique<ir::Graph>(std::move(decoded->graph)));
  auto r = exe->Run({I64(3), F64({3}, {2, 3, 4}), F64({1}, {1})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{3, 6, 10}));
  EXPECT_EQ(Values(r->outputs[1]), (std::vector<double>{2, 6, 24}));
}

// A body decoded from the wire must be self-contained.
TEST(Scan, BodyWithASharedVariableIsRefused) {
  auto body = std::make_unique<ir::Graph>();
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h");
  auto* w = body->AddShared(Type::Of(DType::kFloat64, 0), "s1", "w");
  body->inputs() = {h};
  body->outputs() = {Node(*body, "mul", {h, w})};
  auto g = std::make_unique<ir::Graph>();
  auto* init = g->AddInput(Type::Of(DType::kFloat64, 1), "init");
  ops::NodeBuilder b(*g);
  absl::Status error;
  Scan(*g, Layout(0, {{-1}}), {b.Constant(2, DType::kInt64), init}, std::move(body), &error);
  EXPECT_NE(error.message().find("uses shared variable w directly"), std::string::npos) << error;
}

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
