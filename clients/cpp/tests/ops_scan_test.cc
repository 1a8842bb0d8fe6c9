// Scan: the apply, attributes and body it builds (docs/wire-protocol.md, "scan"), that Build()
// and Import() keep bodies, and the errors the client reports before the server sees the graph.
#include "tensord/ops_scan.h"

#include <gtest/gtest.h>

#include <string>

#include "tensord/graph.h"
#include "tensord/ops.h"
#include "tests/builder_test_util.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;
using testing::Bc;
using testing::Ints;
using testing::ProducerOf;

std::vector<bool> TypeBc(const v1::TensorType& t) {
  return {t.broadcastable().begin(), t.broadcastable().end()};
}

const v1::Variable& BodyVar(const v1::Graph& body, int64_t id) {
  for (const auto& v : body.variables()) {
    if (v.id() == id) return v;
  }
  ADD_FAILURE() << "no variable " << id << " in the body";
  return body.variables(0);
}

ScanStep Sum2() {
  return [](GraphBuilder&, const std::vector<Var>& a) { return std::vector<Var>{a[0] + a[1]}; };
}

TEST(OpsScan, CumulativeSumBuildsOneApplyWithItsBody) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), acc0 = g.Scalar("acc0"), w = g.Scalar("w");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{acc0}};
  args.non_sequences = {w};
  args.name = "cumsum";
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] * a[2] + a[1]};
  });
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].valid()) << g.status();
  EXPECT_EQ(out[0].dtype(), kFloat64);
  EXPECT_EQ(Bc(out[0]), std::vector<bool>{false});
  const v1::Apply* scan = ProducerOf(g, out[0]);
  ASSERT_NE(scan, nullptr);
  EXPECT_EQ(scan->op(), "scan");
  EXPECT_EQ(scan->attrs().at("n_seqs").i(), 1);
  EXPECT_EQ(Ints(scan->attrs().at("mit_sot_taps")), std::vector<int64_t>{-1});
  EXPECT_EQ(Ints(scan->attrs().at("mit_sot_tap_counts")), std::vector<int64_t>{1});
  EXPECT_EQ(scan->attrs().at("n_nit_sot").i(), 0);
  EXPECT_EQ(scan->attrs().at("n_shared_outs").i(), 0);
  EXPECT_EQ(scan->attrs().at("truncate_gradient").i(), -1);
  EXPECT_FALSE(scan->attrs().at("until").b());
  EXPECT_EQ(scan->attrs().at("name").s(), "cumsum");
  // Outer inputs: n_steps = x.shape[0], x, acc0 with a leading dim of 1, w.
  ASSERT_EQ(scan->inputs_size(), 4);
  EXPECT_EQ(ProducerOf(g, g.VarOf(scan->inputs(0)))->op(), "shape_i");
  EXPECT_EQ(scan->inputs(1), x.id());
  const v1::Apply* buffer = ProducerOf(g, g.VarOf(scan->inputs(2)));
  ASSERT_NE(buffer, nullptr);
  EXPECT_EQ(buffer->op(), "dimshuffle");
  EXPECT_EQ(buffer->inputs(0), acc0.id());
  EXPECT_EQ(scan->inputs(3), w.id());
  // The body: x[t], acc0[t-1], w as 0-d float64 inputs; one output.
  ASSERT_EQ(scan->bodies_size(), 1);
  const v1::Graph& body = scan->bodies(0);
  ASSERT_EQ(body.inputs_size(), 3);
  ASSERT_EQ(body.outputs_size(), 1);
  EXPECT_EQ(BodyVar(body, body.inputs(0)).name(), "x[t]");
  EXPECT_EQ(BodyVar(body, body.inputs(1)).name(), "acc0[t-1]");
  EXPECT_EQ(BodyVar(body, body.inputs(2)).name(), "w");
  for (int64_t id : body.inputs()) {
    EXPECT_EQ(BodyVar(body, id).type().dtype(), kFloat64);
    EXPECT_EQ(BodyVar(body, id).type().broadcastable_size(), 0);
  }
}

TEST(OpsScan, BuildAndImportKeepBodies) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), acc0 = g.Scalar("acc0");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{acc0}};
  Var sums = Scan(g, args, Sum2())[0];
  absl::StatusOr<v1::Graph> built = g.Build({x, acc0}, {sums});
  ASSERT_TRUE(built.ok()) << built.status();
  int with_body = 0;
  for (const auto& a : built->applies()) with_body += a.op() == "scan" && a.bodies_size() == 1;
  EXPECT_EQ(with_body, 1);

  // What Differentiate returns: the sent graph plus new nodes, here one with a body.
  v1::Graph extended = *built;
  v1::Variable* grad = extended.add_variables();
  grad->set_id(1000);
  grad->mutable_type()->set_dtype(kFloat64);
  grad->mutable_type()->add_broadcastable(false);
  grad->mutable_output();
  v1::Apply* node = extended.add_applies();
  node->set_op("scan_grad");
  node->add_inputs(x.id());
  node->add_outputs(1000);
  *node->add_bodies() = built->applies(built->applies_size() - 1).bodies(0);
  absl::StatusOr<std::vector<Var>> imported = g.Import(*built, extended, {1000});
  ASSERT_TRUE(imported.ok()) << imported.status();
  const v1::Apply* copy = ProducerOf(g, (*imported)[0]);
  ASSERT_NE(copy, nullptr);
  EXPECT_EQ(copy->op(), "scan_grad");
  ASSERT_EQ(copy->bodies_size(), 1);
  EXPECT_EQ(copy->bodies(0).inputs_size(), 2);
}

TEST(OpsScan, TapsCollectedOutputsNStepsAndGoBackwards) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x"), fib0 = g.Vector("fib0"), n = g.Scalar("n", kInt32);
  ScanArgs args;
  args.sequences = {x};
  // outputs_info: a collected value between two fed-back ones, as Theano allows.
  args.outputs_info = {{fib0, {-2, -1}}, {Var()}, {g.Scalar("s0")}};
  args.n_steps = n;
  args.go_backwards = true;
  args.truncate_gradient = 3;
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    // a: x[t] (vector), fib[t-2], fib[t-1], s[t-1]
    return std::vector<Var>{a[1] + a[2], Sum(a[0]), a[3] + Sum(a[0])};
  });
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].valid() && out[1].valid() && out[2].valid()) << g.status();
  const v1::Apply* scan = ProducerOf(g, out[0]);
  EXPECT_EQ(Ints(scan->attrs().at("mit_sot_taps")), (std::vector<int64_t>{-2, -1, -1}));
  EXPECT_EQ(Ints(scan->attrs().at("mit_sot_tap_counts")), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(scan->attrs().at("n_nit_sot").i(), 1);
  EXPECT_EQ(scan->attrs().at("truncate_gradient").i(), 3);
  // Outer outputs are recurrent first, then collected; the result follows outputs_info.
  EXPECT_EQ(scan->outputs(0), out[0].id());
  EXPECT_EQ(scan->outputs(1), out[2].id());
  EXPECT_EQ(scan->outputs(2), out[1].id());
  EXPECT_EQ(Bc(out[0]), (std::vector<bool>{false}));  // fib0 is its own buffer: rows of 0-d
  EXPECT_EQ(Bc(out[1]), (std::vector<bool>{false}));
  // n_steps = minimum(x[::-1].shape[0], n); x reversed by a subtensor; fib0 passed as is.
  const v1::Apply* steps = ProducerOf(g, g.VarOf(scan->inputs(0)));
  EXPECT_EQ(steps->op(), "minimum");
  const v1::Apply* reversed = ProducerOf(g, g.VarOf(scan->inputs(1)));
  ASSERT_NE(reversed, nullptr);
  EXPECT_EQ(reversed->op(), "subtensor");
  EXPECT_EQ(reversed->inputs(0), x.id());
  EXPECT_EQ(scan->inputs(2), fib0.id());
  const v1::Graph& body = scan->bodies(0);
  ASSERT_EQ(body.inputs_size(), 4);
  EXPECT_EQ(body.outputs_size(), 3);
  EXPECT_EQ(BodyVar(body, body.inputs(1)).name(), "fib0[t-2]");
  EXPECT_EQ(TypeBc(BodyVar(body, body.inputs(0)).type()), std::vector<bool>{false});
}

// Theano's cuts: taps {-2, 1} read x[0:-3] and x[3:], one outer sequence (and argument) each.
TEST(OpsScan, SequenceTapsBecomeSlices) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), skipped = g.Matrix("skipped");
  ScanArgs args;
  args.sequences = {{x, {-2, 1}}, {skipped, {}}};
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] - a[1]};
  });
  ASSERT_EQ(out.size(), 1u);
  ASSERT_TRUE(out[0].valid()) << g.status();
  const v1::Apply* scan = ProducerOf(g, out[0]);
  EXPECT_EQ(scan->attrs().at("n_seqs").i(), 2);
  ASSERT_EQ(scan->inputs_size(), 3);  // n_steps and the two slices; `skipped` is not read
  for (int i : {1, 2}) {
    const v1::Apply* slice = ProducerOf(g, g.VarOf(scan->inputs(i)));
    ASSERT_NE(slice, nullptr);
    EXPECT_EQ(slice->op(), "subtensor");
    EXPECT_EQ(slice->inputs(0), x.id());
  }
  const v1::Graph& body = scan->bodies(0);
  ASSERT_EQ(body.inputs_size(), 2);
  EXPECT_EQ(BodyVar(body, body.inputs(0)).name(), "x[t-2]");
  EXPECT_EQ(BodyVar(body, body.inputs(1)).name(), "x[t+1]");
}

TEST(OpsScan, NoOutputsInfoCollectsEveryValueAndUntilAddsTheCondition) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x");
  ScanArgs args;
  args.sequences = {x};
  args.until = true;
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] * 2.0, Exp(a[0]), Gt(a[0], 5.0)};
  });
  ASSERT_EQ(out.size(), 2u) << g.status();
  const v1::Apply* scan = ProducerOf(g, out[0]);
  EXPECT_EQ(scan->attrs().at("n_nit_sot").i(), 2);
  EXPECT_TRUE(scan->attrs().at("until").b());
  EXPECT_EQ(scan->outputs_size(), 2);
  EXPECT_EQ(scan->bodies(0).outputs_size(), 3);
}

// States are shared outs: after the output taps in the body, their final values after the
// stacked outputs.
TEST(OpsScan, StatesComeAfterTheTapsAndReturnTheirFinalValues) {
  GraphBuilder g(kFloat64);
  Var x = g.Vector("x"), s0 = g.Scalar("s0"), count = g.Scalar("count", kInt64);
  Var acc = g.Vector("acc"), w = g.Scalar("w");
  ScanArgs args;
  args.sequences = {x};
  args.outputs_info = {{s0}};
  args.states = {count, acc};
  args.non_sequences = {w};
  std::vector<Var> out = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
    // a: x[t], s[t-1], count, acc, w
    return std::vector<Var>{a[0] + a[1], a[2] + 1, a[3] * a[4]};
  });
  ASSERT_EQ(out.size(), 3u);
  ASSERT_TRUE(out[0].valid() && out[1].valid() && out[2].valid()) << g.status();
  const v1::Apply* scan = ProducerOf(g, out[0]);
  EXPECT_EQ(scan->attrs().at("n_shared_outs").i(), 2);
  ASSERT_EQ(scan->inputs_size(), 6);  // n_steps, x, s0's buffer, count, acc, w
  EXPECT_EQ(scan->inputs(3), count.id());
  EXPECT_EQ(scan->inputs(4), acc.id());
  EXPECT_EQ(scan->inputs(5), w.id());
  EXPECT_EQ(scan->outputs(1), out[1].id());
  EXPECT_EQ(out[1].dtype(), kInt64);
  EXPECT_EQ(out[1].ndim(), 0);
  EXPECT_EQ(Bc(out[2]), std::vector<bool>{false});
  const v1::Graph& body = scan->bodies(0);
  EXPECT_EQ(body.inputs_size(), 5);
  EXPECT_EQ(body.outputs_size(), 3);
  EXPECT_EQ(BodyVar(body, body.inputs(2)).name(), "count");
}

// Runs Scan and returns the error it recorded on the builder.
std::string ScanError(GraphBuilder& g, const ScanArgs& args, const ScanStep& fn) {
  std::vector<Var> out = Scan(g, args, fn);
  for (Var v : out) EXPECT_FALSE(v.valid());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << g.status();
  return std::string(g.status().message());
}

TEST(OpsScan, BadArgumentsAreClearErrors) {
  auto expect = [](auto&& configure, const ScanStep& fn, const std::string& want) {
    GraphBuilder g(kFloat64);
    ScanArgs args;
    args.name = "loop";
    configure(g, args);
    const std::string error = ScanError(g, args, fn);
    EXPECT_NE(error.find("scan 'loop'"), std::string::npos) << error;
    EXPECT_NE(error.find(want), std::string::npos) << error;
  };
  auto identity = [](GraphBuilder&, const std::vector<Var>& a) { return a; };
  expect([](GraphBuilder& g, ScanArgs& a) { a.outputs_info = {{g.Scalar("s")}}; }, identity,
         "give n_steps or a sequence");
  expect(
      [](GraphBuilder& g, ScanArgs& a) {
        a.outputs_info = {{g.Scalar("s")}};
        a.n_steps = g.Literal(-3);
      },
      identity, "n_steps is -3");
  expect([](GraphBuilder& g, ScanArgs& a) { a.n_steps = g.Scalar("n"); }, identity,
         "n_steps must be an integer scalar");
  expect([](GraphBuilder& g, ScanArgs& a) { a.sequences = {g.Scalar("x")}; }, identity,
         "sequences[0] is a scalar");
  expect(
      [](GraphBuilder& g, ScanArgs& a) {
        a.sequences = {g.Vector("x")};
        a.outputs_info = {{g.Vector("s"), {0}}};
      },
      identity, "taps of outputs must be negative");
  expect(
      [](GraphBuilder& g, ScanArgs& a) {
        a.sequences = {g.Vector("x")};
        a.outputs_info = {{g.Scalar("s"), {-2, -1}}};
      },
      identity, "needs a leading dimension of at least 2 rows");
  expect(
      [](GraphBuilder& g, ScanArgs& a) {
        a.sequences = {g.Vector("x")};
        a.truncate_gradient = 0;
      },
      identity, "truncate_gradient is 0");
  GraphBuilder other;
  Var foreign = other.Vector("y");
  expect([&](GraphBuilder&, ScanArgs& a) { a.sequences = {foreign}; }, identity,
         "sequences[0] belongs to a different GraphBuilder");
}

TEST(OpsScan, StepFunctionMistakesAreClearErrors) {
  auto expect = [](const ScanStep& fn, const std::string& want, bool until = false) {
    GraphBuilder g(kFloat64);
    ScanArgs args;
    args.sequences = {g.Vector("x")};
    args.outputs_info = {{g.Scalar("s")}};
    args.until = until;
    const std::string error = ScanError(g, args, fn);
    EXPECT_NE(error.find("scan 'scan_fn'"), std::string::npos) << error;
    EXPECT_NE(error.find(want), std::string::npos) << error;
  };
  expect([](GraphBuilder&,
            const std::vector<Var>& a) { return std::vector<Var>{Cast(a[0] + a[1], kFloat32)}; },
         "outputs_info[0] has dtype float64 but the step function returns float32");
  expect(
      [](GraphBuilder&, const std::vector<Var>& a) {
        return std::vector<Var>{Stack({a[0], a[1]})};
      },
      "has 0 dimension(s) per step but the step function returns 1");
  {
    GraphBuilder g(kFloat64);
    ScanArgs args;
    args.sequences = {g.Vector("x")};
    args.states = {g.Scalar("count", kInt64)};
    const std::string error = ScanError(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
      return std::vector<Var>{Cast(a[1], kInt32)};
    });
    EXPECT_NE(error.find("states[0] is int64 of rank 0 but the step function returns int32"),
              std::string::npos)
        << error;
  }
  expect([](GraphBuilder&, const std::vector<Var>& a) { return a; },
         "returns 2 values but outputs_info has 1 entries");
  expect([](GraphBuilder&, const std::vector<Var>&) { return std::vector<Var>{}; },
         "returns 0 values");
  expect([](GraphBuilder& body,
            const std::vector<Var>& a) { return std::vector<Var>{a[0] + body.Scalar("stray")}; },
         "uses input 'stray', which is not one of its arguments");
  expect(
      [](GraphBuilder&, const std::vector<Var>& a) {
        return std::vector<Var>{a[0] + a[1], Stack({a[0], a[1]})};
      },
      "the until condition must be a scalar", /*until=*/true);
}

TEST(OpsScan, OuterVariablesInsideTheStepAreErrors) {
  GraphBuilder g(kFloat64);
  Var w = g.Scalar("w");
  ScanArgs args;
  args.sequences = {g.Vector("x")};
  args.outputs_info = {{g.Scalar("s")}};
  std::string error = ScanError(
      g, args, [&](GraphBuilder&, const std::vector<Var>&) { return std::vector<Var>{w}; });
  EXPECT_NE(error.find("returned a variable of the outer graph"), std::string::npos) << error;

  GraphBuilder g2(kFloat64);
  Var w2 = g2.Scalar("w");
  args.sequences = {g2.Vector("x")};
  args.outputs_info = {{g2.Scalar("s")}};
  error = ScanError(g2, args, [&](GraphBuilder&, const std::vector<Var>& a) {
    return std::vector<Var>{a[0] * w2 + a[1]};
  });
  EXPECT_NE(error.find("different GraphBuilder"), std::string::npos) << error;
  EXPECT_NE(error.find("only as non_sequences"), std::string::npos) << error;
}

}  // namespace
}  // namespace tensord::client
