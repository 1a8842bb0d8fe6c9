// Type inference of the elementwise math, comparison, logic and contraction helpers.
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

TEST(OpsMath, UpcastAndToFloatRules) {
  GraphBuilder g;
  Var i8 = g.Vector("i8", kInt8), i32 = g.Vector("i32", kInt32), f32 = g.Matrix("f", kFloat32);
  Var u16 = g.Scalar("u16", kUInt16), b = g.Vector("b", kBool);
  EXPECT_EQ(IntDiv(i8, i32).dtype(), kInt32);
  EXPECT_EQ(Mod(i8, u16).dtype(), kInt32);
  EXPECT_EQ(Abs(i8).dtype(), kInt8);
  EXPECT_EQ(Sqr(b).dtype(), kBool);
  EXPECT_EQ(Sqrt(i8).dtype(), kFloat32);
  EXPECT_EQ(Sqrt(i32).dtype(), kFloat64);
  EXPECT_EQ(Sqrt(b).dtype(), kFloat32);
  EXPECT_EQ(Sigmoid(f32).dtype(), kFloat32);
  EXPECT_EQ(Arctan2(i8, u16).dtype(), kFloat64);  // int8 + uint16 -> int32 -> float64
  EXPECT_EQ(Floor(i8).dtype(), kFloat32);
  EXPECT_EQ(RoundHalfToEven(i32).dtype(), kInt32);
  EXPECT_EQ(Clip(i8, u16, f32).dtype(), kFloat64);  // int8, uint16 -> int32
  EXPECT_EQ(Maximum(i32, f32).dtype(), kFloat64);
  EXPECT_EQ(Bc(Maximum(i32, f32)), (std::vector<bool>{false, false}));
  for (Var v : {Floor(f32),    Ceil(f32), Trunc(f32),  Expm1(f32),
                Log1p(f32),    Log2(f32), Log10(f32),  Sin(f32),
                Cos(f32),      Tan(f32),  Arcsin(f32), Arccos(f32),
                Arctan(f32),   Sinh(f32), Cosh(f32),   Tanh(f32),
                Erf(f32),      Erfc(f32), Gamma(f32),  Gammaln(f32),
                Softplus(f32), Sgn(f32),  Round(f32),  Round(f32, "half_to_even")}) {
    EXPECT_EQ(v.dtype(), kFloat32);
    EXPECT_EQ(v.ndim(), 2);
  }
  EXPECT_EQ(ProducerOf(g, Round(f32))->op(), "round_half_away_from_zero");
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(OpsMath, NoBoolOpsRefuseBool) {
  for (auto op : {+[](Var b) { return IntDiv(b, b); }, +[](Var b) { return Mod(b, b); },
                  +[](Var b) { return Sgn(b); }, +[](Var b) { return RoundHalfToEven(b); },
                  +[](Var b) { return RoundHalfAwayFromZero(b); }}) {
    GraphBuilder g;
    EXPECT_FALSE(op(g.Vector("b", kBool)).valid());
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  }
  GraphBuilder g;
  EXPECT_FALSE(Round(g.Vector("x"), "banker").valid());
}

TEST(OpsMath, ComparisonsAndPredicatesAreBool) {
  GraphBuilder g;
  Var x = g.Matrix("x", kFloat64), v = g.Vector("v", kInt16);
  for (Var c : {Gt(x, v), Lt(x, v), Ge(x, v), Le(x, v), Eq(x, v), Neq(x, v), IsClose(x, v)}) {
    EXPECT_EQ(c.dtype(), kBool);
    EXPECT_EQ(Bc(c), (std::vector<bool>{false, false}));
  }
  EXPECT_EQ(IsNan(v).dtype(), kBool);
  EXPECT_EQ(IsInf(x).ndim(), 2);
  EXPECT_EQ(Gt(v, 2).dtype(), kBool);
  EXPECT_EQ(Le(0.5, v).dtype(), kBool);
  Var close = IsClose(x, x, 0.25, 0.5, true);
  const v1::Apply* a = ProducerOf(g, close);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->op(), "isclose");
  EXPECT_DOUBLE_EQ(a->attrs().at("rtol").f(), 0.25);
  EXPECT_DOUBLE_EQ(a->attrs().at("atol").f(), 0.5);
  EXPECT_TRUE(a->attrs().at("equal_nan").b());
  Var all = AllClose(x, v);
  EXPECT_EQ(all.dtype(), kBool);
  EXPECT_EQ(all.ndim(), 0);
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(OpsMath, LogicOnIntegersAndBoolOnly) {
  GraphBuilder g;
  Var b = g.Vector("b", kBool), i = g.Vector("i", kUInt8), s = g.Scalar("s", kInt8);
  EXPECT_EQ((b & b).dtype(), kBool);
  EXPECT_EQ((b | i).dtype(), kUInt8);
  EXPECT_EQ((i ^ s).dtype(), kInt16);
  EXPECT_EQ((~b).dtype(), kBool);
  EXPECT_EQ(ProducerOf(g, ~i)->op(), "invert");
  EXPECT_EQ((i % 3).dtype(), kInt16);  // 3 is an int8 literal; uint8 + int8 -> int16
  EXPECT_EQ(ProducerOf(g, i % s)->op(), "mod");
  ASSERT_TRUE(g.status().ok());
  EXPECT_FALSE(And(g.Vector("f"), b).valid());
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(OpsMath, SwitchAndIfElse) {
  GraphBuilder g;
  Var c = g.Matrix("c", kBool), a = g.Vector("a", kInt32), e = g.Scalar("e", kFloat32);
  Var s = Switch(c, a, e);
  EXPECT_EQ(s.dtype(), kFloat64);
  EXPECT_EQ(Bc(s), (std::vector<bool>{false, false}));
  Var cond = g.Scalar("cond", kInt8);
  Var m1 = g.Matrix("m1"), m2 = g.Matrix("m2");
  std::vector<Var> out = IfElse(cond, {m1, a}, {m2, g.Vector("a2", kInt32)});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].dtype(), kFloat32);
  EXPECT_EQ(out[1].dtype(), kInt32);
  ASSERT_TRUE(g.status().ok());
  EXPECT_FALSE(IfElse(cond, m1, g.Row("r")).valid());  // types differ
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  GraphBuilder h;
  EXPECT_FALSE(IfElse(h.Vector("c"), h.Scalar(), h.Scalar()).valid());  // non-scalar condition
}

TEST(OpsLinalg, ContractionTypes) {
  GraphBuilder g;
  Var t3 = g.Input("t", kFloat32, {false, true, false}), m = g.Matrix("m", kFloat64);
  Var td = TensorDot(t3, m, {-1}, {0});
  EXPECT_EQ(td.dtype(), kFloat64);
  EXPECT_EQ(Bc(td), (std::vector<bool>{false, true, false}));
  const v1::Apply* a = ProducerOf(g, td);
  EXPECT_EQ(a->attrs().at("axes_a").ints().values(0), -1);
  EXPECT_EQ(TensorDot(t3, t3, 2).ndim(), 2);
  EXPECT_EQ(TensorDot(m, m, 0).ndim(), 4);
  Var b3 = g.Input("b", kFloat32, {true, false, false});
  Var bd = BatchedDot(t3, b3);  // the batch dim is broadcastable when either is
  EXPECT_EQ(Bc(bd), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(ProducerOf(g, bd)->op(), "batched_dot");
  EXPECT_EQ(BatchedDot(g.Vector("v"), b3).ndim(), 3);  // a vector scales per batch item
  Var bt = BatchedTensorDot(t3, b3, {2}, {1});
  EXPECT_EQ(Bc(bt), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(BatchedTensorDot(t3, b3, 1).ndim(), 3);
  Var o = Outer(g.Vector("x"), g.Vector("y"));
  EXPECT_EQ(Bc(o), (std::vector<bool>{false, false}));
  ASSERT_TRUE(g.status().ok()) << g.status();

  EXPECT_FALSE(TensorDot(m, m, {0, 0}, {0, 1}).valid());     // repeated axis
  EXPECT_FALSE(TensorDot(m, m, {0}, {0, 1}).valid());        // lengths differ
  EXPECT_FALSE(BatchedTensorDot(t3, b3, {0}, {1}).valid());  // the batch axis
  EXPECT_FALSE(BatchedDot(g.Scalar(), m).valid());
}

}  // namespace
}  // namespace tensord::client
