// Adversarial review of scan (issue 6): hand-built nodes a client library would never send
// (hostile attributes, inconsistent scan_grad flags, broadcastable states the step widens) must
// be INVALID_ARGUMENT, and results handed out must never change under a later run.
#include <gtest/gtest.h>

#include <limits>

#include "engine/compile/scan_testing.h"
#include "engine/ops/op_def.h"

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
using testing::SumBody;
using testing::Values;

ir::Attrs SumAttrs() { return ops::ScanAttrs(Layout(1, {{-1}})); }

// The status of the type rule of `op` over `inputs` with `attrs` and `body`, as a request
// decoded from the wire reaches it (engine/frontend/proto_convert.cc).
absl::Status TryApply(ir::Graph& g, const std::string& op, std::vector<Variable*> inputs,
                      ir::Attrs attrs, std::shared_ptr<const ir::Graph> body) {
  ir::Apply probe{op, std::move(attrs), std::move(inputs), {}, nullptr, {std::move(body)}};
  std::vector<Type> types;
  return ops::ResolveAndInfer(probe, &types);
}

// A shared state declared broadcastable (length 1) whose step returns a wider value would be
// output, and stored, with a type its shape contradicts.
TEST(ScanReview, SharedStateMustKeepItsBroadcastableDims) {
  auto make_body = [](const Type& state) {
    auto body = std::make_shared<ir::Graph>();
    auto* s = body->AddInput(state, "s");
    auto* v = body->AddInput(Type::Of(DType::kFloat64, 1), "v");
    body->inputs() = {s, v};
    body->outputs() = {Node(*body, "add", {s, v})};
    return body;
  };
  ops::ScanLayout l;
  l.n_shared = 1;
  auto g = std::make_unique<ir::Graph>();
  const Type row{DType::kFloat64, {true}};
  auto* s0 = g->AddInput(row, "s0");
  auto* v = g->AddInput(Type::Of(DType::kFloat64, 1), "v");
  ops::NodeBuilder b(*g);
  auto* n = b.Constant(1, DType::kInt64);
  absl::Status error = TryApply(*g, "scan", {n, s0, v}, ops::ScanAttrs(l), make_body(row));
  EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument) << error;
  EXPECT_NE(error.message().find("shared state 0 has type"), std::string::npos) << error;
  // The other way round is fine: a broadcastable update of a non-broadcastable state.
  auto* wide = g->AddInput(Type::Of(DType::kFloat64, 1), "w0");
  auto* one = g->AddInput(row, "one");
  auto body = std::make_shared<ir::Graph>();
  auto* s = body->AddInput(Type::Of(DType::kFloat64, 1), "s");
  auto* o = body->AddInput(row, "one");
  body->inputs() = {s, o};
  body->outputs() = {o};
  EXPECT_TRUE(TryApply(*g, "scan", {n, wide, one}, ops::ScanAttrs(l), body).ok());
}

TEST(ScanReview, HostileAttributesAreInvalidArguments) {
  auto g = std::make_unique<ir::Graph>();
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  ops::NodeBuilder b(*g);
  auto* n = b.Constant(3, DType::kInt64);
  const int64_t huge = std::numeric_limits<int64_t>::max();
  std::vector<std::pair<std::string, ir::AttrValue>> bad = {
      {"n_seqs", int64_t{-1}},
      {"n_seqs", huge},
      {"n_nit_sot", int64_t{-3}},
      {"n_shared_outs", int64_t{1} << 40},
      {"mit_sot_tap_counts", std::vector<int64_t>{huge}},
      {"mit_sot_tap_counts", std::vector<int64_t>{0}},
      {"mit_sot_tap_counts", std::vector<int64_t>{-1}},
      {"mit_sot_tap_counts", std::vector<int64_t>{1, 1}},
      {"mit_sot_taps", std::vector<int64_t>{0}},
      {"mit_sot_taps", std::vector<int64_t>{3}},
      {"mit_sot_taps", std::vector<int64_t>{std::numeric_limits<int64_t>::min()}},
      {"truncate_gradient", int64_t{0}},
      {"truncate_gradient", int64_t{-7}},
      {"until", int64_t{1}},           // the wrong attribute type
      {"mode", std::string("BOGUS")},  // found in review: compiled the body as FAST_RUN
  };
  for (const auto& [key, value] : bad) {
    ir::Attrs attrs = SumAttrs();
    attrs[key] = value;
    absl::Status st = TryApply(*g, "scan", {n, a, s0}, attrs, SumBody());
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << key << ": " << st;
  }
  // Duplicated taps and a missing attribute.
  ir::Attrs twice = SumAttrs();
  twice["mit_sot_taps"] = std::vector<int64_t>{-1, -1};
  twice["mit_sot_tap_counts"] = std::vector<int64_t>{2};
  EXPECT_EQ(TryApply(*g, "scan", {n, a, s0}, twice, SumBody()).code(),
            absl::StatusCode::kInvalidArgument);
  ir::Attrs missing = SumAttrs();
  missing.erase("n_seqs");
  EXPECT_EQ(TryApply(*g, "scan", {n, a, s0}, missing, SumBody()).code(),
            absl::StatusCode::kInvalidArgument);
  // No inputs at all (not even n_steps).
  EXPECT_EQ(TryApply(*g, "scan", {}, SumAttrs(), SumBody()).code(),
            absl::StatusCode::kInvalidArgument);
}

// scan_grad as a client could send it by hand: flags and inputs that disagree.
TEST(ScanReview, HandBuiltScanGradWithInconsistentFlags) {
  auto g = std::make_unique<ir::Graph>();
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  auto* outs = g->AddInput(Type::Of(DType::kFloat64, 1), "outs");
  auto* gout = g->AddInput(Type::Of(DType::kFloat64, 1), "g");
  ops::NodeBuilder b(*g);
  auto* n = b.Constant(3, DType::kInt64);
  // The gradient body of the cumulative sum: (x_t, h_prev, g_t) -> (g_t, g_t).
  auto body = std::make_shared<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h_prev");
  auto* gt = body->AddInput(Type::Of(DType::kFloat64, 0), "g_t");
  body->inputs() = {x, h, gt};
  body->outputs() = {gt, gt};
  auto with_flags = [](std::vector<int64_t> mit, std::vector<int64_t> nit) {
    ir::Attrs attrs = SumAttrs();
    attrs["mit_sot_grads"] = std::move(mit);
    attrs["nit_sot_grads"] = std::move(nit);
    return attrs;
  };
  // The consistent node type-checks and runs: d(sum of cumsum)/da = [3, 2, 1].
  {
    auto ok_graph = std::make_unique<ir::Graph>();
    auto* aa = ok_graph->AddInput(Type::Of(DType::kFloat64, 1), "a");
    auto* ss = ok_graph->AddInput(Type::Of(DType::kFloat64, 1), "s0");
    auto* oo = ok_graph->AddInput(Type::Of(DType::kFloat64, 1), "outs");
    auto* gg = ok_graph->AddInput(Type::Of(DType::kFloat64, 1), "g");
    ok_graph->inputs() = {aa, ss, oo, gg};
    ops::NodeBuilder ob(*ok_graph);
    auto grads = ob.ApplyMulti("scan_grad", {ob.Constant(3, DType::kInt64), aa, ss, oo, gg},
                               with_flags({1}, {}), {body});
    ASSERT_TRUE(ob.status().ok()) << ob.status();
    ok_graph->outputs() = grads;
    auto exe = Build(std::move(ok_graph));
    ASSERT_NE(exe, nullptr);
    auto r = exe->Run(
        {F64({3}, {1, 2, 3}), F64({1}, {0}), F64({3}, {1, 3, 6}), F64({3}, {1, 1, 1})}, {});
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{3, 2, 1}));
    EXPECT_EQ(Values(r->outputs[1]), (std::vector<double>{3}));
    // A forward output of the wrong length is a run-time INVALID_ARGUMENT.
    r = exe->Run({F64({3}, {1, 2, 3}), F64({1}, {0}), F64({2}, {1, 3}), F64({3}, {1, 1, 1})}, {});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  }
  const std::vector<std::pair<ir::Attrs, std::vector<Variable*>>> bad = {
      {with_flags({2}, {}), {n, a, s0, outs, gout}},        // a flag that is not 0/1
      {with_flags({1, 1}, {}), {n, a, s0, outs, gout}},     // more flags than outputs
      {with_flags({1}, {1}), {n, a, s0, outs, gout}},       // a flag for a missing output
      {with_flags({1}, {}), {n, a, s0, outs}},              // the flagged gradient missing
      {with_flags({0}, {}), {n, a, s0, outs, gout}},        // an unflagged extra input
      {with_flags({1}, {}), {n}},                           // almost nothing
      {with_flags({1}, {}), {n, a, s0, gout, gout, gout}},  // a non-sequence too many
  };
  for (size_t i = 0; i < bad.size(); ++i) {
    absl::Status st = TryApply(*g, "scan_grad", bad[i].second, bad[i].first, body);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << "case " << i << ": " << st;
  }
  ir::Attrs no_flags = SumAttrs();
  EXPECT_EQ(TryApply(*g, "scan_grad", {n, a, s0, outs, gout}, no_flags, body).code(),
            absl::StatusCode::kInvalidArgument);
}

// Outputs handed to a caller stay theirs: a later run of the same executable (which reuses its
// buffers) must not write into them, also when the output is the final value of a shared state.
TEST(ScanReview, OutputsOfEarlierRunsAreNotOverwritten) {
  auto body = std::make_shared<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  auto* h = body->AddInput(Type::Of(DType::kFloat64, 0), "h_prev");
  auto* s = body->AddInput(Type::Of(DType::kFloat64, 1), "s");
  body->inputs() = {x, h, s};
  auto* next = Node(*body, "add", {h, x});
  body->outputs() = {next, Node(*body, "mul", {s, x})};
  ops::ScanLayout l;
  l.n_seqs = 1;
  l.taps = {{-1}};
  l.n_mit = 1;
  l.n_shared = 1;
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  auto* h0 = g->AddInput(Type::Of(DType::kFloat64, 1), "h0");
  auto* s0 = g->AddInput(Type::Of(DType::kFloat64, 1), "s0");
  g->inputs() = {n, a, h0, s0};
  ops::NodeBuilder b(*g);
  g->outputs() = b.ApplyMulti("scan", {n, a, h0, s0}, ops::ScanAttrs(l), {body});
  ASSERT_TRUE(b.status().ok()) << b.status();
  auto exe = Build(std::move(g));
  ASSERT_NE(exe, nullptr);
  auto first = exe->Run({I64(3), F64({3}, {1, 2, 3}), F64({1}, {0}), F64({2}, {1, 10})}, {});
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = exe->Run({I64(3), F64({3}, {5, 5, 5}), F64({1}, {1}), F64({2}, {2, 2})}, {});
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Values(first->outputs[0]), (std::vector<double>{1, 3, 6}));
  EXPECT_EQ(Values(first->outputs[1]), (std::vector<double>{6, 60}));
  EXPECT_EQ(Values(second->outputs[0]), (std::vector<double>{6, 11, 16}));
  EXPECT_EQ(Values(second->outputs[1]), (std::vector<double>{250, 250}));
  // Zero steps: the shared state's final value is its initial one, the caller's tensor intact.
  Tensor init = F64({2}, {4, 5});
  auto none = exe->Run({I64(0), F64({0}, {}), F64({1}, {0}), init}, {});
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(Values(none->outputs[1]), (std::vector<double>{4, 5}));
  EXPECT_EQ(none->outputs[0].shape(), (runtime::Shape{0}));
}

// Zero steps: a non-recurrent output whose step type has a broadcastable dim keeps it 1 (found
// in review: it came back (0, 0), contradicting its type).
TEST(ScanReview, ZeroStepsKeepBroadcastableDimsOfNonRecurrentOutputs) {
  auto body = std::make_shared<ir::Graph>();
  auto* x = body->AddInput(Type::Of(DType::kFloat64, 0), "x_t");
  body->inputs() = {x};
  ops::NodeBuilder bb(*body);
  body->outputs() = {bb.ExpandDims(x, {0}, 1)};
  ASSERT_TRUE(bb.status().ok()) << bb.status();
  ops::ScanLayout l;
  l.n_seqs = 1;
  l.n_nit = 1;
  auto g = std::make_unique<ir::Graph>();
  auto* n = g->AddInput(Type::Of(DType::kInt64, 0), "n");
  auto* a = g->AddInput(Type::Of(DType::kFloat64, 1), "a");
  g->inputs() = {n, a};
  ops::NodeBuilder b(*g);
  g->outputs() = b.ApplyMulti("scan", {n, a}, ops::ScanAttrs(l), {body});
  ASSERT_TRUE(b.status().ok()) << b.status();
  EXPECT_EQ(g->outputs()[0]->type, (Type{DType::kFloat64, {false, true}}));
  auto exe = Build(std::move(g));
  ASSERT_NE(exe, nullptr);
  auto r = exe->Run({I64(0), F64({2}, {1, 2})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].shape(), (runtime::Shape{0, 1}));
  r = exe->Run({I64(2), F64({2}, {1, 2})}, {});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->outputs[0].shape(), (runtime::Shape{2, 1}));
  EXPECT_EQ(Values(r->outputs[0]), (std::vector<double>{1, 2}));
}

}  // namespace
}  // namespace tensord::compile
