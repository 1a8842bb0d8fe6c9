// Type inference and wire encoding of the reduction, scan, creation, shape, join and sort helpers.
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

TEST(OpsReduce, DtypesAndAxes) {
  GraphBuilder g;
  Var x = g.Input("x", kInt16, {false, true, false});
  Var f = g.Matrix("f", kFloat32);
  EXPECT_EQ(Prod(x).dtype(), kInt64);
  EXPECT_EQ(Prod(x, {0}, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(Prod(g.Vector("u", kUInt8)).dtype(), kUInt64);
  EXPECT_EQ(Min(x, {-1}).dtype(), kInt16);
  EXPECT_EQ(Bc(Min(x, {-1})), (std::vector<bool>{false, true}));
  EXPECT_EQ(All(x, {1}).dtype(), kBool);
  EXPECT_EQ(Any(f).ndim(), 0);
  EXPECT_EQ(Argmax(x, {0, 2}).dtype(), kInt64);
  EXPECT_EQ(Bc(Argmin(x, {2, 0})), (std::vector<bool>{true}));
  auto [mx, am] = MaxAndArgmax(f, {1});
  EXPECT_EQ(mx.dtype(), kFloat32);
  EXPECT_EQ(am.dtype(), kInt64);
  EXPECT_EQ(ProducerOf(g, mx), ProducerOf(g, am));
  EXPECT_EQ(Mean(f).dtype(), kFloat32);
  EXPECT_EQ(Mean(x).dtype(), kFloat64);
  EXPECT_EQ(Mean(g.Vector("h", kFloat64)).dtype(), kFloat64);
  Var var = Variance(f, {0}, 1, true);
  EXPECT_EQ(var.dtype(), kFloat32);
  const v1::Apply* a = ProducerOf(g, var);
  EXPECT_EQ(a->op(), "var");
  EXPECT_EQ(a->attrs().at("ddof").i(), 1);
  EXPECT_TRUE(a->attrs().at("corrected").b());
  EXPECT_EQ(Ints(a->attrs().at("axis")), (std::vector<int64_t>{0}));
  Var sd = Std(x);
  EXPECT_EQ(sd.dtype(), kFloat64);
  EXPECT_EQ(ProducerOf(g, sd)->attrs().count("axis"), 0u);
  EXPECT_EQ(ProducerOf(g, sd)->attrs().count("corrected"), 0u);
  EXPECT_EQ(Ptp(f, {0}).ndim(), 1);
  Var kept = KeepDims(Max(x, {0, 2}), x, {0, 2});
  EXPECT_EQ(Bc(kept), (std::vector<bool>{true, true, true}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(Std(f, {}, -1).valid());
  EXPECT_FALSE(Prod(f, {0, -2}).valid());
}

TEST(OpsReduce, CumOp) {
  GraphBuilder g;
  Var r = g.Row("r", kInt8);
  Var all = CumSum(r);
  EXPECT_EQ(all.dtype(), kInt64);
  EXPECT_EQ(Bc(all), (std::vector<bool>{false}));
  const v1::Apply* a = ProducerOf(g, all);
  EXPECT_EQ(a->op(), "cumop");
  EXPECT_EQ(a->attrs().at("mode").s(), "add");
  EXPECT_EQ(a->attrs().count("axis"), 0u);
  Var p = CumProd(r, -1);
  EXPECT_EQ(Bc(p), (std::vector<bool>{true, false}));
  EXPECT_EQ(ProducerOf(g, p)->attrs().at("mode").s(), "mul");
  EXPECT_EQ(Ints(ProducerOf(g, p)->attrs().at("axis")), (std::vector<int64_t>{1}));
  EXPECT_FALSE(CumSum(r, 2).valid());
}

TEST(OpsShape, CreationAndShape) {
  GraphBuilder g;
  Var x = g.Tensor3("x");
  EXPECT_EQ(Shape(x).dtype(), kInt64);
  EXPECT_EQ(Bc(Shape(x)), (std::vector<bool>{false}));
  EXPECT_EQ(ShapeI(x, 2).ndim(), 0);
  EXPECT_EQ(MakeVector({ShapeI(x, 0), g.Literal(3)}).dtype(), kInt64);
  EXPECT_EQ(MakeVector(g, {}, kFloat32).ndim(), 1);
  EXPECT_EQ(Arange(g, 0, 5).dtype(), kInt64);
  EXPECT_EQ(Arange(g.Literal(0.5), g.Literal(3), g.Literal(1)).dtype(), kFloat32);
  Var u = g.Scalar("u", kUInt8);
  EXPECT_EQ(Arange(u, u, u).dtype(), kUInt64);
  EXPECT_EQ(Arange(g, 0, 5, 1, kFloat64).dtype(), kFloat64);
  EXPECT_EQ(Eye(g, 3).dtype(), kFloat32);
  EXPECT_EQ(Bc(Eye(g, 3, 4, 1, kInt32)), (std::vector<bool>{false, false}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(ShapeI(x, 3).valid());
  EXPECT_FALSE(MakeVector({g.Scalar("f", kFloat64)}, kInt64).valid());   // no downcast
  EXPECT_FALSE(Eye(g.Scalar("n"), g.Literal(2), g.Literal(0)).valid());  // float n
  EXPECT_FALSE(Arange(g, 0, 5, 1, kBool).valid());
}

TEST(OpsShape, TileRepeatFlatten) {
  GraphBuilder g;
  Var r = g.Row("r");
  Var t = Tile(r, {2});
  EXPECT_EQ(Bc(t), (std::vector<bool>{true, false}));
  EXPECT_EQ(Ints(ProducerOf(g, t)->attrs().at("reps")), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(Bc(Tile(r, {1, 1, 1})), (std::vector<bool>{true, true, false}));
  EXPECT_EQ(Bc(Tile(r, {2, 1, 1})), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(Bc(Repeat(r, 2)), (std::vector<bool>{false}));
  EXPECT_EQ(Bc(Repeat(r, 2, 0)), (std::vector<bool>{false, false}));
  EXPECT_EQ(Bc(Repeat(r, 1, 0)), (std::vector<bool>{true, false}));
  EXPECT_EQ(Bc(Repeat(r, g.Vector("k", kInt32), -1)), (std::vector<bool>{true, false}));
  Var x = g.Input("x", kFloat32, {false, true, true});
  EXPECT_EQ(Bc(Flatten(x)), (std::vector<bool>{false}));
  EXPECT_EQ(Bc(Flatten(x, 2)), (std::vector<bool>{false, true}));
  EXPECT_EQ(Bc(Flatten(g.Scalar("s"))), (std::vector<bool>{true}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(Tile(r, {-1}).valid());
  EXPECT_FALSE(Flatten(x, 4).valid());
  EXPECT_FALSE(Repeat(r, g.Vector("fr")).valid());  // float repeats
}

TEST(OpsShape, JoinStackSort) {
  GraphBuilder g;
  Var r = g.Row("r", kInt32), m = g.Matrix("m", kFloat32);
  Var j = Join(0, {r, m});
  EXPECT_EQ(j.dtype(), kFloat64);
  EXPECT_EQ(Bc(j), (std::vector<bool>{false, false}));
  Var c = Concatenate({r, g.Row("r2", kInt32)}, -1);
  EXPECT_EQ(Bc(c), (std::vector<bool>{true, false}));
  EXPECT_EQ(ProducerOf(g, c)->attrs().at("axis").i(), 1);
  EXPECT_EQ(Join(0, {m}).id(), m.id());
  Var s = Stack({g.Vector("a"), g.Vector("b")}, 1);
  EXPECT_EQ(Bc(s), (std::vector<bool>{false, false}));
  Var sv = Stack({g.Scalar("p", kInt8), g.Scalar("q", kInt16)});
  EXPECT_EQ(sv.dtype(), kInt16);
  EXPECT_EQ(ProducerOf(g, sv)->op(), "make_vector");
  Var sorted = Sort(r);
  EXPECT_EQ(Bc(sorted), (std::vector<bool>{true, false}));
  EXPECT_EQ(ProducerOf(g, sorted)->attrs().at("axis").i(), 1);
  EXPECT_EQ(Argsort(m, 0).dtype(), kInt64);
  EXPECT_EQ(Bc(Sort(m, std::nullopt)), (std::vector<bool>{false}));
  EXPECT_EQ(Bc(Squeeze(r)), (std::vector<bool>{false}));
  EXPECT_EQ(Bc(ShapePadAxis(g.Vector("v"), -1)), (std::vector<bool>{false, true}));
  EXPECT_EQ(Bc(ShapePadLeft(r, 2)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(Bc(SwapAxes(r, 0, 1)), (std::vector<bool>{false, true}));
  ASSERT_TRUE(g.status().ok()) << g.status();
  EXPECT_FALSE(Join(0, {r, g.Vector("v2")}).valid());
  EXPECT_FALSE(Join(0, {g.Scalar("x"), g.Scalar("y")}).valid());
  EXPECT_FALSE(Sort(m, 2).valid());
}

}  // namespace
}  // namespace tensord::client
