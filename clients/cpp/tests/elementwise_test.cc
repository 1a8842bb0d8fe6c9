// Elementwise(): the generic builder every generated helper calls, typed by the table generated
// from the op schema. The rules themselves are compared with the server's by
// tests/integration/elementwise_parity_test.cc; these pin the builder's own behaviour.
#include <gtest/gtest.h>

#include "tensord/graph.h"
#include "tensord/ops.h"
#include "tests/builder_test_util.h"

namespace tensord::client {
namespace {

using testing::Bc;
using testing::ProducerOf;

TEST(Elementwise, ByNameAsTheGeneratedHelpers) {
  GraphBuilder g;
  Var i16 = g.Vector("i", kInt16), m = g.Matrix("m", kFloat64), c = g.Col("c", kBool);
  Var sin = Elementwise("sin", {i16});
  EXPECT_EQ(sin.dtype(), kFloat32);
  EXPECT_EQ(Sin(i16).type().SerializeAsString(), sin.type().SerializeAsString());
  Var sum = Elementwise("add", {i16, m, c});  // variadic; ranks padded, broadcasting ANDed
  EXPECT_EQ(sum.dtype(), kFloat64);
  EXPECT_EQ(Bc(sum), (std::vector<bool>{false, false}));
  EXPECT_EQ(ProducerOf(g, sum)->inputs_size(), 3);
  Var where = Switch(c, i16, g.Scalar("u", kUInt8));  // the condition takes no part in the dtype
  EXPECT_EQ(where.dtype(), kInt16);
  EXPECT_EQ(Bc(where), (std::vector<bool>{false, false}));
  // Ops the schema types that had no hand-written helper come with the generated ones.
  EXPECT_EQ(Psi(i16).dtype(), kFloat32);
  EXPECT_EQ(TriGamma(m).dtype(), kFloat64);
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(Elementwise, VariadicOfOneInputIsThatInput) {
  GraphBuilder g;
  Var x = g.Matrix("x", kInt8);
  EXPECT_EQ(Add({x}).id(), x.id());
  EXPECT_EQ(Mul({x}).id(), x.id());
  EXPECT_TRUE(g.graph().applies().empty());
  EXPECT_FALSE(Add({}).valid());  // no builder to report to
  ASSERT_TRUE(g.status().ok()) << g.status();
}

TEST(Elementwise, RefusalsSayWhy) {
  struct Refusal {
    const char* op;
    DType a, b;
    const char* message;
  };
  for (const Refusal& r : {
           Refusal{"sub", kBool, kBool, "sub: not defined for bool inputs"},
           Refusal{"and", kFloat32, kInt8, "and: needs integer or bool inputs, got float32, int8"},
           Refusal{"mod", kBool, kBool, "mod: needs numeric (not bool) inputs, got bool, bool"},
       }) {
    GraphBuilder g;
    EXPECT_FALSE(Elementwise(r.op, {g.Vector("a", r.a), g.Vector("b", r.b)}).valid());
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << r.op;
    EXPECT_EQ(g.status().message(), r.message);
  }
}

TEST(Elementwise, UnknownOpsAndWrongArityFail) {
  for (const char* op : {"fill", "isclose", "cast", "no_such_op"}) {  // typed by code, or none
    GraphBuilder g;
    EXPECT_FALSE(Elementwise(op, {g.Vector("a"), g.Vector("b")}).valid());
    EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument) << op;
  }
  GraphBuilder g;
  EXPECT_FALSE(Elementwise("sub", {g.Vector("a")}).valid());
  EXPECT_EQ(g.status().message(), "sub: takes 2 inputs, got 1");
  GraphBuilder h;
  EXPECT_TRUE(Elementwise("add", {h.Vector("a"), h.Vector("b")}).valid());
  EXPECT_FALSE(Elementwise("sin", {h.Vector("a"), h.Vector("b")}).valid());
  EXPECT_EQ(h.status().message(), "sin: takes 1 input, got 2");
}

}  // namespace
}  // namespace tensord::client
