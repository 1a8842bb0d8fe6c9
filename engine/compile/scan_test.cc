// scan on the CPU executor, against loops written out by hand in C++ (the gradient is in
// scan_grad_test.cc).
#include <gtest/gtest.h>

#include <cmath>

#include "engine/compile/scan_testing.h"
#include "engine/frontend/proto_convert.h"
#include "engine/ir/fingerprint.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {
namespace {

using ir::Type;
using ir::Variable;
using runtime::Tensor;
using testing::Build;
using testing::F64;
using testing::I64;
using testing::Layout;
using testing::Node;
using testing::Scan;
using testing::SumBody;
using testing::Values;

// f(n, a, s0) = the first n cumulative sums of a, from s0 (a (1,) initial state).
std::shared_ptr<Executable> CumulativeSum(const std::string& name = "") {
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  g->inputs() = {n, a, s0};
  ops::ScanLayout l = Layout(1, {{-1}});
  l.name = name;
  g->outputs() = Scan(*g, l, {n, a, s0}, SumBody());
  return Build(std::move(g));
}

TEST(Scan, CumulativeSum) {
  auto exe = CumulativeSum();
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
  auto exe = CumulativeSum("acc");
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
  auto exe = CumulativeSum();
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

}  // namespace
}  // namespace tensord::compile
