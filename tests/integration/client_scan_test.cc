// Scan from the C++ client through the real server: loops against reference loops written here,
// gradients through Session::Grad against central finite differences of the compiled forward
// function, truncate_gradient, and the errors of bad scans (client side and the server's).
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "tensord/ops_scan.h"
#include "tests/integration/client_ops_fixture.h"

namespace tensord::client {
namespace {

using ClientScanTest = ClientOpsTest;

HostTensor Doubles2D(const Doubles& values, int64_t rows, int64_t cols) {
  return *HostTensor::FromVector<double>(values, {rows, cols});
}

// d f / d input[which] by central differences, f being the compiled scalar forward function.
Doubles NumericGradient(const Function& f, const std::vector<HostTensor>& inputs, size_t which) {
  constexpr double kEps = 1e-6;
  Doubles grad;
  const Doubles base = inputs[which].ToDoubles();
  for (size_t k = 0; k < base.size(); ++k) {
    double value[2];
    for (int side = 0; side < 2; ++side) {
      std::vector<HostTensor> moved = inputs;
      Doubles shifted = base;
      shifted[k] += side == 0 ? kEps : -kEps;
      moved[which] = *HostTensor::FromVector<double>(shifted, inputs[which].shape());
      auto out = f.Run(moved);
      EXPECT_TRUE(out.ok()) << out.status();
      value[side] = out.ok() ? (*out)[0].ToDoubles()[0] : NAN;
    }
    grad.push_back((value[0] - value[1]) / (2 * kEps));
  }
  return grad;
}

TEST_F(ClientScanTest, CumulativeSumMatchesALoop) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), acc0 = g.Scalar("acc0");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{acc0}};
  Var sums = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] + a[1]};
  })[0];
  const Doubles xs = {1.5, -2, 3, 0.25, 7};
  Doubles want;
  double acc = 10;
  for (double v : xs) want.push_back(acc += v);
  auto out =
      Eval(g, {x, acc0}, {sums}, {HostTensor::Vector<double>(xs), HostTensor::Scalar<double>(10)});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], want, {5});
}

TEST_F(ClientScanTest, FibonacciWithTwoTapsAndNoSequences) {
  GraphBuilder g(kFloat64);
  Var first = g.Vector("first", kInt64), n = g.Scalar("n", kInt32);
  ScanArgs args;
  args.outputs_info = {{first, {-2, -1}}};
  args.n_steps = n;
  Var fib = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] + a[1]};
  })[0];
  EXPECT_EQ(fib.dtype(), kInt64);
  Doubles want = {0, 1};
  for (int i = 0; i < 10; ++i) want.push_back(want[want.size() - 2] + want.back());
  want.erase(want.begin(), want.begin() + 2);  // the initial rows are not part of the output
  auto out = Eval(g, {first, n}, {fib},
                  {HostTensor::Vector<int64_t>({0, 1}), HostTensor::Scalar<int32_t>(10)});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], want, {10});
}

// A collected (not fed back) output next to a recurrent one, and a matrix non-sequence.
TEST_F(ClientScanTest, CollectedOutputAndNonSequences) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x"), w = g.Matrix("w"), total0 = g.Scalar("total0");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{Var()}, {total0}};
  args.non_sequences = {w};
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    // a: x[t], total[t-1], w
    return std::vector<Var>{Dot(a[2], a[0]), a[1] + Sum(a[0])};
  });
  ASSERT_EQ(out.size(), 2u);
  const Doubles xs = {1, 2, 3, 4, 5, 6}, ws = {1, 0.5, -1, 2};  // x: 3x2, w: 2x2
  Doubles want_products, want_totals;
  double total = 0;
  for (int t = 0; t < 3; ++t) {
    for (int i = 0; i < 2; ++i) {
      want_products.push_back(ws[2 * i] * xs[2 * t] + ws[2 * i + 1] * xs[2 * t + 1]);
    }
    want_totals.push_back(total += xs[2 * t] + xs[2 * t + 1]);
  }
  auto values = Eval(g, {x, w, total0}, out,
                     {Doubles2D(xs, 3, 2), Doubles2D(ws, 2, 2), HostTensor::Scalar<double>(0)});
  ASSERT_EQ(values.size(), 2u);
  ExpectNear(values[0], want_products, {3, 2});
  ExpectNear(values[1], want_totals, {3});
}

// go_backwards reads the last row first; n_steps shorter than the sequence stops early.
TEST_F(ClientScanTest, GoBackwardsMatchesAReversedLoop) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), n = g.Scalar("n", kInt64), s0 = g.Scalar("s0");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{s0}};
  args.n_steps = n;
  args.go_backwards = true;
  Var sums = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] + a[1]};
  })[0];
  const Doubles xs = {1, 2, 3, 4, 5};
  Doubles want;
  double acc = 0;
  for (int t = 0; t < 3; ++t) want.push_back(acc += xs[xs.size() - 1 - t]);
  auto out = Eval(g, {x, n, s0}, {sums},
                  {HostTensor::Vector<double>(xs), HostTensor::Scalar<int64_t>(3),
                   HostTensor::Scalar<double>(0)});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], want, {3});
  // n_steps larger than the sequence: the sequence's length wins.
  out = Eval(g, {x, n, s0}, {sums},
             {HostTensor::Vector<double>(xs), HostTensor::Scalar<int64_t>(50),
              HostTensor::Scalar<double>(0)});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], {5, 9, 12, 14, 15}, {5});
}

// Sequence taps {-1, 0, 2}: step i reads x[i], x[i+1], x[i+3] (len - 3 steps); backwards, the
// same rows from the end.
TEST_F(ClientScanTest, SequenceTapsForwardAndBackward) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  auto build = [&](bool backwards) {
    ScanArgs args;
    args.sequences = {{x, {-1, 0, 2}}};
    args.go_backwards = backwards;
    return Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
      return std::vector<Var>{a[0] + 10.0 * a[1] + 100.0 * a[2]};
    })[0];
  };
  Var forward = build(false), backward = build(true);
  const Doubles xs = {1, 2, 3, 4, 5, 6, 7};
  const int steps = static_cast<int>(xs.size()) - 3;
  Doubles want_forward, want_backward;
  for (int i = 0; i < steps; ++i) {
    want_forward.push_back(xs[i] + 10 * xs[i + 1] + 100 * xs[i + 3]);
    const int j = steps - 1 - i;
    want_backward.push_back(xs[j] + 10 * xs[j + 1] + 100 * xs[j + 3]);
  }
  auto out = Eval(g, {x}, {forward, backward}, {HostTensor::Vector<double>(xs)});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], want_forward, {steps});
  ExpectNear(out[1], want_backward, {steps});
}

TEST_F(ClientScanTest, UntilStopsAfterTheFirstTrueCondition) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  ScanArgs args;
  args.sequences = {x};
  args.until = true;
  Var doubled = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] * 2.0, Gt(a[0], 5.0)};
  })[0];
  auto out = Eval(g, {x}, {doubled}, {HostTensor::Vector<double>({1, 2, 6, 3, 9})});
  ASSERT_EQ(out.size(), 1u);
  ExpectNear(out[0], {2, 4, 12}, {3});
}

// h_t = tanh(W h_{t-1} + x_t), cost = sum(h^2): Session::Grad (a scan_grad node with a body,
// imported into the builder) against finite differences of the compiled forward function.
TEST_F(ClientScanTest, RnnGradientMatchesFiniteDifferences) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x"), w = g.Matrix("w"), h0 = g.Vector("h0");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{h0}};
  args.non_sequences = {w};
  args.name = "rnn";
  Var h = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{Tanh(Dot(a[2], a[1]) + a[0])};
  })[0];
  Var cost = Sum(Sqr(h));
  auto grads = session_->Grad(cost, {x, w, h0});
  ASSERT_TRUE(grads.ok()) << grads.status();
  const std::vector<HostTensor> values = {
      Doubles2D({0.5, -0.3, 0.1, 0.8, -0.6, 0.2, 0.3, 0.3}, 4, 2),
      Doubles2D({0.9, -0.4, 0.3, 0.7}, 2, 2), HostTensor::Vector<double>({0.2, -0.1})};
  auto forward = session_->Compile(g, {x, w, h0}, {cost});
  ASSERT_TRUE(forward.ok()) << forward.status();
  auto analytic = Eval(g, {x, w, h0}, *grads, values);
  ASSERT_EQ(analytic.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    SCOPED_TRACE(::testing::Message() << "gradient " << i);
    ExpectNear(analytic[i], NumericGradient(*forward, values, i), values[i].shape(), 1e-6);
  }
}

// h_t = w h_{t-1} + x_t, cost = sum(h). With truncate_gradient k only the last k steps are
// walked back: those rows of d cost/d x are the full gradient, earlier rows and h0's are zero.
TEST_F(ClientScanTest, TruncateGradientCutsEarlierSteps) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), w = g.Scalar("w"), h0 = g.Scalar("h0");
  auto build = [&](int64_t truncate) {
    ScanArgs args;
    args.sequences = {x};
    args.outputs_info = {{h0}};
    args.non_sequences = {w};
    args.truncate_gradient = truncate;
    return Sum(Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
      return std::vector<Var>{a[2] * a[1] + a[0]};
    })[0]);
  };
  Var full = build(-1), truncated = build(2);
  auto full_grads = session_->Grad(full, {x, h0});
  auto cut_grads = session_->Grad(truncated, {x, h0});
  ASSERT_TRUE(full_grads.ok()) << full_grads.status();
  ASSERT_TRUE(cut_grads.ok()) << cut_grads.status();
  const std::vector<HostTensor> values = {HostTensor::Vector<double>({1, -2, 0.5, 3, 1}),
                                          HostTensor::Scalar<double>(0.7),
                                          HostTensor::Scalar<double>(0.4)};
  auto forward = session_->Compile(g, {x, w, h0}, {full});
  ASSERT_TRUE(forward.ok()) << forward.status();
  const Doubles numeric_x = NumericGradient(*forward, values, 0);
  const Doubles numeric_h0 = NumericGradient(*forward, values, 2);
  auto got = Eval(g, {x, w, h0},
                  {(*full_grads)[0], (*full_grads)[1], (*cut_grads)[0], (*cut_grads)[1]}, values);
  ASSERT_EQ(got.size(), 4u);
  ExpectNear(got[0], numeric_x, {5}, 1e-6);
  ExpectNear(got[1], numeric_h0, {}, 1e-6);
  ExpectNear(got[2], {0, 0, 0, numeric_x[3], numeric_x[4]}, {5}, 1e-6);
  ExpectNear(got[3], {0});
}

// Training through a scan: w is a session shared variable passed as a non-sequence, updated by
// gradient descent on the scan's gradient until h_t = w h_{t-1} + x_t reproduces w = 0.5.
TEST_F(ClientScanTest, GradientDescentThroughAScanLearnsTheWeight) {
  GraphBuilder g(kFloat64);
  auto w = session_->CreateShared("w", HostTensor::Scalar<double>(0));
  ASSERT_TRUE(w.ok()) << w.status();
  Var wv = w->In(g), x = g.Vector("x"), target = g.Vector("target");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{g.Constant(HostTensor::Scalar<double>(0))}};
  args.non_sequences = {wv};
  Var h = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[2] * a[1] + a[0]};
  })[0];
  Var cost = Sum(Sqr(h - target));
  auto grads = session_->Grad(cost, {wv});
  ASSERT_TRUE(grads.ok()) << grads.status();
  auto step = session_->Compile(g, {x, target}, {cost}, {{wv, wv - 0.1 * (*grads)[0]}});
  ASSERT_TRUE(step.ok()) << step.status();
  const std::vector<HostTensor> data = {HostTensor::Vector<double>({1, 0, 0, 0}),
                                        HostTensor::Vector<double>({1, 0.5, 0.25, 0.125})};
  for (int i = 0; i < 100; ++i) {
    auto out = step->Run(data);
    ASSERT_TRUE(out.ok()) << out.status();
  }
  auto value = w->GetValue();
  ASSERT_TRUE(value.ok()) << value.status();
  ExpectNear(*value, {0.5}, {}, 1e-6);
}

// States only (Theano's scan of a fn that just updates shared variables): a shared total that
// the final value updates, and a counter.
TEST_F(ClientScanTest, StatesGiveFinalValuesForUpdates) {
  GraphBuilder g(kFloat64);
  auto total = session_->CreateShared("total", HostTensor::Vector<double>({0, 0}));
  ASSERT_TRUE(total.ok()) << total.status();
  Var total_v = total->In(g), x = g.Matrix("x"), count0 = g.Scalar("count0", kInt64);
  ScanArgs args;
  args.sequences = {x};
  args.states = {total_v, count0};
  std::vector<Var> finals = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[1] + a[0], a[2] + 1};  // a: x[t], total, count
  });
  ASSERT_EQ(finals.size(), 2u);
  auto f = session_->Compile(g, {x, count0}, {finals[1]}, {{total_v, finals[0]}});
  ASSERT_TRUE(f.ok()) << f.status();
  const HostTensor xs = Doubles2D({1, 2, 3, 4, 5, 6.5}, 3, 2);
  for (int run = 0; run < 2; ++run) {
    auto out = f->Run({xs, HostTensor::Scalar<int64_t>(10)});
    ASSERT_TRUE(out.ok()) << out.status();
    ExpectNear((*out)[0], {13});
  }
  auto value = total->GetValue();
  ASSERT_TRUE(value.ok()) << value.status();
  ExpectNear(*value, {2 * (1 + 3 + 5), 2 * (2 + 4 + 6.5)}, {2});
}

TEST_F(ClientScanTest, ClientErrorsStopTheCompile) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  ScanArgs args;
  args.sequences = {x};
  // Literal(0.0) is float32, as Theano types 0.0, but x's rows are float64.
  args.outputs_info = {{g.Literal(0.0)}};
  Var sums = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] + a[1]};
  })[0];
  EXPECT_FALSE(sums.valid());
  auto f = session_->Compile(g, {x}, {Sum(x)});
  ASSERT_FALSE(f.ok());
  EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find("outputs_info[0] has dtype float32 but the step function "
                                      "returns float64"),
            std::string::npos)
      << f.status();
}

// Scans the client cannot check (built by hand with GraphBuilder::Apply) and a negative n_steps
// at run time get INVALID_ARGUMENT from the server, naming the scan.
TEST_F(ClientScanTest, ServerRejectsBadScans) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), s0 = g.Scalar("s0"), n = g.Scalar("n", kInt64);
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{s0}};
  args.n_steps = n;
  args.name = "handmade";
  Var sums = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] + a[1]};
  })[0];
  ASSERT_TRUE(sums.valid()) << g.status();
  const ::tensord::v1::Apply scan = g.graph().applies(g.graph().applies_size() - 1);
  std::vector<Var> inputs;
  for (int64_t id : scan.inputs()) inputs.push_back(g.VarOf(id));
  AttrMap attrs;
  for (const auto& [key, value] : scan.attrs()) attrs[key] = value;

  auto compile_error = [&](Var out, std::vector<Var> inputs_of_f) {
    auto f = session_->Compile(g, std::move(inputs_of_f), {out});
    EXPECT_FALSE(f.ok());
    EXPECT_EQ(f.status().code(), absl::StatusCode::kInvalidArgument) << f.status();
    return std::string(f.status().message());
  };
  AttrMap wrong_count = attrs;
  wrong_count["n_nit_sot"] = IntAttr(1);
  Var bad = g.Apply("scan", inputs, wrong_count, {sums.type(), sums.type()}, {scan.bodies(0)})[0];
  std::string error = compile_error(bad, {x, s0, n});
  EXPECT_NE(error.find("scan 'handmade'"), std::string::npos) << error;
  EXPECT_NE(error.find("the step function returns 1 values but the scan expects 2"),
            std::string::npos)
      << error;

  // The body reads float64 rows; a float32 sequence does not fit it.
  Var x32 = g.Vector("x32", kFloat32);
  std::vector<Var> retyped = inputs;
  retyped[1] = x32;
  bad = g.Apply("scan", retyped, attrs, {sums.type()}, {scan.bodies(0)})[0];
  error = compile_error(bad, {x, s0, n, x32});
  EXPECT_NE(error.find("step function input 0 (sequence 0) has type"), std::string::npos) << error;

  bad = g.Apply("scan", inputs, attrs, {sums.type()})[0];  // no body
  error = compile_error(bad, {x, s0, n});
  EXPECT_NE(error.find("op 'scan' takes 1 bodies"), std::string::npos) << error;

  auto f = session_->Compile(g, {x, s0, n}, {sums});
  ASSERT_TRUE(f.ok()) << f.status();
  auto out = f->Run({HostTensor::Vector<double>({1, 2}), HostTensor::Scalar<double>(0),
                     HostTensor::Scalar<int64_t>(-1)});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument) << out.status();
  EXPECT_NE(out.status().message().find("handmade"), std::string::npos) << out.status();
}

}  // namespace
}  // namespace tensord::client
