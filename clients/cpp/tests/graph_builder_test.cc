// The graph builder's type inference and wire encoding, checked without a server.
#include <gtest/gtest.h>

#include "tensord/graph.h"
#include "tensord/ops.h"
#include "tests/builder_test_util.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;
using testing::Bc;
using testing::Ints;
using testing::ProducerOf;

TEST(GraphBuilder, MatrixPlusScalarPadsScalarWithDimshuffle) {
  GraphBuilder g;
  Var x = g.Matrix("x"), y = g.Scalar("y");
  Var z = x + y;
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_EQ(z.dtype(), kFloat32);
  EXPECT_EQ(Bc(z), (std::vector<bool>{false, false}));

  const v1::Apply* add = ProducerOf(g, z);
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->op(), "add");
  ASSERT_EQ(add->inputs_size(), 2);
  EXPECT_EQ(add->inputs(0), x.id());
  const v1::Variable& padded = g.graph().variables(add->inputs(1) - 1);
  EXPECT_EQ(padded.type().broadcastable_size(), 2);
  EXPECT_TRUE(padded.type().broadcastable(0) && padded.type().broadcastable(1));
  EXPECT_TRUE(padded.has_output());

  ASSERT_EQ(g.graph().applies_size(), 2);
  const v1::Apply& ds = g.graph().applies(0);
  EXPECT_EQ(ds.op(), "dimshuffle");
  EXPECT_EQ(ds.inputs(0), y.id());
  EXPECT_EQ(Ints(ds.attrs().at("new_order")), (std::vector<int64_t>{-1, -1}));
}

TEST(GraphBuilder, BroadcastableIsAndOverInputs) {
  GraphBuilder g;
  Var row = g.Row("r"), col = g.Col("c");
  EXPECT_EQ(Bc(row + col), (std::vector<bool>{false, false}));
  EXPECT_EQ(Bc(row * row), (std::vector<bool>{true, false}));
  EXPECT_EQ(Bc(g.Vector("v") - row), (std::vector<bool>{true, false}));
}

TEST(GraphBuilder, ElementwiseDtypeFollowsNumPy) {
  GraphBuilder g;
  Var i32 = g.Vector("i", kInt32), f32 = g.Vector("f", kFloat32);
  EXPECT_EQ((i32 + f32).dtype(), kFloat64);
  EXPECT_EQ((f32 * f32).dtype(), kFloat32);
  EXPECT_EQ(Add({i32, f32, g.Vector("d", kFloat64)}).dtype(), kFloat64);
  EXPECT_EQ(ProducerOf(g, Add({i32, i32, i32}))->inputs_size(), 3);
}

TEST(GraphBuilder, ResultTypeTable) {
  EXPECT_EQ(ResultType(kInt8, kUInt8), kInt16);
  EXPECT_EQ(ResultType(kUInt32, kInt32), kInt64);
  EXPECT_EQ(ResultType(kInt64, kUInt64), kFloat64);
  EXPECT_EQ(ResultType(kUInt8, kInt32), kInt32);
  EXPECT_EQ(ResultType(kBool, kInt8), kInt8);
  EXPECT_EQ(ResultType(kBool, kBool), kBool);
  EXPECT_EQ(ResultType(kInt8, kFloat16), kFloat16);
  EXPECT_EQ(ResultType(kInt16, kFloat16), kFloat32);
  EXPECT_EQ(ResultType(kInt64, kFloat32), kFloat64);
  EXPECT_EQ(ResultType(kUInt16, kFloat32), kFloat32);
  EXPECT_EQ(ResultType(kFloat32, kFloat64), kFloat64);
}

TEST(GraphBuilder, FloatResultsOfIntegerInputs) {
  GraphBuilder g;
  Var i8 = g.Vector("a", kInt8), i32 = g.Vector("b", kInt32), u16 = g.Vector("c", kUInt16);
  EXPECT_EQ(Exp(i8).dtype(), kFloat32);
  EXPECT_EQ(Log(u16).dtype(), kFloat32);
  EXPECT_EQ(Exp(i32).dtype(), kFloat64);
  EXPECT_EQ((i8 / i8).dtype(), kFloat32);
  EXPECT_EQ((i32 / i32).dtype(), kFloat64);
  EXPECT_EQ((g.Vector("f") / g.Vector("h")).dtype(), kFloat32);
  EXPECT_EQ(ProducerOf(g, i8 / i8)->op(), "true_div");
  EXPECT_EQ((-i8).dtype(), kInt8);
  EXPECT_EQ(Pow(i32, g.Vector("p")).dtype(), kFloat64);
  ASSERT_TRUE(g.status().ok()) << g.status();
  Var flags = g.Vector("flags", kBool);
  EXPECT_EQ((flags + flags).dtype(), kBool);
  EXPECT_FALSE((-flags).valid());  // NumPy refuses negating bools
}

TEST(GraphBuilder, LiteralsAreTypedLikeTheano) {
  GraphBuilder g;
  Var w = g.Matrix("w");
  EXPECT_EQ((w * 0.1).dtype(), kFloat32);
  EXPECT_EQ((2 * g.Vector("i", kInt32)).dtype(), kInt32);
  EXPECT_EQ(g.Literal(2).dtype(), kInt8);
  EXPECT_EQ(g.Literal(300).dtype(), kInt16);
  EXPECT_EQ(g.Literal(int64_t{1} << 40).dtype(), kInt64);
  EXPECT_EQ(g.Literal(0.1).ndim(), 0);

  GraphBuilder g64(kFloat64);
  EXPECT_EQ(g64.Literal(0.5).dtype(), kFloat32);  // exact in float32
  EXPECT_EQ(g64.Literal(0.1).dtype(), kFloat64);
  EXPECT_EQ(g64.Matrix("m").dtype(), kFloat64);
}

TEST(GraphBuilder, DotRanks) {
  GraphBuilder g;
  Var v = g.Vector("v"), m = g.Matrix("m"), row = g.Row("r");
  EXPECT_EQ(Dot(v, v).ndim(), 0);
  EXPECT_EQ(Dot(m, v).ndim(), 1);
  EXPECT_EQ(Dot(v, m).ndim(), 1);
  EXPECT_EQ(Dot(m, m).ndim(), 2);
  EXPECT_EQ(Bc(Dot(row, m)), (std::vector<bool>{true, false}));
  EXPECT_EQ(Dot(m, g.Vector("d", kFloat64)).dtype(), kFloat64);
  EXPECT_EQ(Dot(g.Matrix("i", kInt32), g.Vector("j", kInt64)).dtype(), kInt64);
  ASSERT_TRUE(g.status().ok());

  // numpy.dot: a 0-d operand multiplies; higher ranks keep a's free dims, then b's.
  EXPECT_EQ(Bc(Dot(g.Scalar("s"), row)), (std::vector<bool>{true, false}));
  EXPECT_EQ(Dot(g.Tensor3("t"), m).ndim(), 3);
  ASSERT_TRUE(g.status().ok());

  EXPECT_FALSE(Dimshuffle(m, {0}).valid());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  // The error is sticky: later ops still work, but Build reports the first failure.
  EXPECT_FALSE(FunctionSpecBuilder(g).Inputs({v}).Outputs({Dot(v, v)}).Build().ok());
}

TEST(GraphBuilder, Reductions) {
  GraphBuilder g;
  Var m = g.Matrix("m", kInt8), col = g.Col("c", kUInt16);
  Var all = Sum(m);
  EXPECT_EQ(all.dtype(), kInt64);
  EXPECT_EQ(all.ndim(), 0);
  EXPECT_FALSE(ProducerOf(g, all)->attrs().contains("axis"));

  Var rows = Sum(m, {-1});
  EXPECT_EQ(Ints(ProducerOf(g, rows)->attrs().at("axis")), (std::vector<int64_t>{1}));
  EXPECT_EQ(Bc(Sum(col, {0})), (std::vector<bool>{true}));
  EXPECT_EQ(Sum(col).dtype(), kUInt64);
  EXPECT_EQ(Sum(g.Vector("f")).dtype(), kFloat32);

  Var as_f64 = Sum(m, {0}, kFloat64);
  EXPECT_EQ(as_f64.dtype(), kFloat64);
  EXPECT_EQ(ProducerOf(g, as_f64)->attrs().at("dtype").dtype(), kFloat64);

  Var mx = Max(m, {1, 0});
  EXPECT_EQ(mx.dtype(), kInt8);
  EXPECT_EQ(Ints(ProducerOf(g, mx)->attrs().at("axis")), (std::vector<int64_t>{0, 1}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(Max(m, {2}).valid());
}

TEST(GraphBuilder, ShapeOps) {
  GraphBuilder g;
  Var m = g.Matrix("m");
  Var r = Reshape(m, {1, -1});
  EXPECT_EQ(Bc(r), (std::vector<bool>{true, false}));
  const v1::Apply* reshape = ProducerOf(g, r);
  EXPECT_EQ(reshape->attrs().at("ndim").i(), 2);
  const v1::Variable& shape = g.graph().variables(reshape->inputs(1) - 1);
  ASSERT_TRUE(shape.has_constant());
  EXPECT_EQ(shape.constant().dtype(), kInt64);

  Var row = g.Row("row");
  EXPECT_EQ(Bc(row.T()), (std::vector<bool>{false, true}));
  EXPECT_EQ(Bc(Dimshuffle(row, {1})), (std::vector<bool>{false}));  // drops the broadcastable 0
  EXPECT_EQ(Bc(Dimshuffle(m, {1, -1, 0})), (std::vector<bool>{false, true, false}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(Dimshuffle(m, {0}).valid());  // dimension 1 is not broadcastable
}

TEST(GraphBuilder, CastFillAlloc) {
  GraphBuilder g;
  Var m = g.Matrix("m");
  Var c = Cast(m, kInt32);
  EXPECT_EQ(c.dtype(), kInt32);
  EXPECT_EQ(ProducerOf(g, c)->attrs().at("dtype").dtype(), kInt32);
  EXPECT_EQ(Cast(m, kFloat32).id(), m.id());

  Var f = Fill(m, g.Literal(3));
  EXPECT_EQ(f.dtype(), kInt8);
  EXPECT_EQ(Bc(f), (std::vector<bool>{false, false}));

  Var a = Alloc(g.Literal(0.0), std::vector<int64_t>{1, 4});
  EXPECT_EQ(a.dtype(), kFloat32);
  EXPECT_EQ(Bc(a), (std::vector<bool>{true, false}));
  EXPECT_EQ(ProducerOf(g, a)->inputs_size(), 3);
  EXPECT_EQ(Bc(Alloc(g.Vector("v"), {g.Scalar("n", kInt64), g.Scalar("k", kInt32)})),
            (std::vector<bool>{false, false}));
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(GraphBuilder, VariablesOfTwoBuildersDoNotMix) {
  GraphBuilder g1, g2;
  Var x = g1.Vector("x"), y = g2.Vector("y");
  EXPECT_FALSE((x + y).valid());
  EXPECT_FALSE(g1.status().ok());
}

TEST(FunctionSpecBuilder, PrunesToWhatOutputsAndUpdatesNeed) {
  GraphBuilder g;
  Var x = g.Vector("x"), y = g.Vector("y"), unused = g.Vector("u");
  Var z = x + y;
  Var other = Exp(unused);
  v1::SharedInfo info;
  info.set_id("s1");
  info.set_name("w");
  info.mutable_type()->set_dtype(kFloat32);
  info.mutable_type()->add_broadcastable(false);
  Var w = g.SharedVar(info);
  EXPECT_EQ(g.SharedVar(info).id(), w.id());

  absl::StatusOr<v1::FunctionSpec> spec =
      FunctionSpecBuilder(g).Inputs({x, y}).Outputs({z}).Update(w, w - 0.1 * x).Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  for (const auto& v : spec->graph().variables()) {
    EXPECT_NE(v.id(), unused.id());
    EXPECT_NE(v.id(), other.id());
  }
  EXPECT_EQ(spec->graph().inputs_size(), 2);
  EXPECT_EQ(spec->graph().outputs(0), z.id());
  ASSERT_EQ(spec->updates_size(), 1);
  EXPECT_EQ(spec->updates(0).variable(), w.id());
}

TEST(FunctionSpecBuilder, RejectsBadFunctions) {
  GraphBuilder g;
  Var x = g.Vector("x");
  v1::SharedInfo info;
  info.set_id("s1");
  info.mutable_type()->set_dtype(kFloat32);
  info.mutable_type()->add_broadcastable(false);
  Var w = g.SharedVar(info);
  // An update that widens the dtype, as in Theano, is refused.
  EXPECT_FALSE(
      FunctionSpecBuilder(g).Inputs({x}).Update(w, w + g.Vector("d", kFloat64)).Build().ok());
  EXPECT_FALSE(FunctionSpecBuilder(g).Inputs({x, x}).Outputs({x}).Build().ok());
  EXPECT_FALSE(FunctionSpecBuilder(g).Inputs({w}).Outputs({x}).Build().ok());
  EXPECT_FALSE(FunctionSpecBuilder(g).Inputs({x}).Update(x, x).Build().ok());
}

TEST(GraphBuilder, ImportMergesAnExtendedGraph) {
  GraphBuilder g;
  Var x = g.Vector("x");
  Var cost = Sum(x * x);
  absl::StatusOr<v1::Graph> sent = g.Build({x}, {cost});
  ASSERT_TRUE(sent.ok());
  Var unrelated = g.Scalar("later");  // takes the id the "server" will reuse below

  // What a server might return: grad = 2 * x, with ids continuing after the sent graph.
  v1::Graph extended = *sent;
  int64_t next = 0;
  for (const auto& v : sent->variables()) next = std::max(next, v.id() + 1);
  auto* two = extended.add_variables();
  two->set_id(next);
  *two->mutable_constant() = HostTensor::Scalar<float>(2).ToProto();
  two->mutable_type()->set_dtype(kFloat32);
  auto* grad = extended.add_variables();
  grad->set_id(next + 1);
  grad->mutable_type()->set_dtype(kFloat32);
  grad->mutable_type()->add_broadcastable(false);
  grad->mutable_output();
  auto* mul = extended.add_applies();
  mul->set_op("mul");
  mul->add_inputs(next);
  mul->add_inputs(x.id());
  mul->add_outputs(next + 1);

  absl::StatusOr<std::vector<Var>> grads = g.Import(*sent, extended, {next + 1});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Var gx = (*grads)[0];
  EXPECT_NE(gx.id(), next + 1);
  EXPECT_NE(gx.id(), unrelated.id());
  EXPECT_EQ(Bc(gx), (std::vector<bool>{false}));
  const v1::Apply* producer = ProducerOf(g, gx);
  ASSERT_NE(producer, nullptr);
  EXPECT_EQ(producer->inputs(1), x.id());
  EXPECT_TRUE(g.graph().variables(producer->inputs(0) - 1).has_constant());
  EXPECT_TRUE(FunctionSpecBuilder(g).Inputs({x}).Outputs({gx - x}).Build().ok());
}

}  // namespace
}  // namespace tensord::client
