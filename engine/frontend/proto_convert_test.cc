#include "engine/frontend/proto_convert.h"

#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"

namespace tensord::ir {
namespace {

v1::Graph Parse(const std::string& text) {
  v1::Graph g;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &g)) << text;
  return g;
}

constexpr char kAdd[] = R"txt(
  variables { id: 1 name: "x" type { dtype: DT_FLOAT32 broadcastable: [false, false] } input {} }
  variables { id: 2 name: "y" type { dtype: DT_FLOAT32 broadcastable: [false, false] } input {} }
  variables { id: 3 type { dtype: DT_FLOAT32 broadcastable: [false, false] } output {} }
  applies { op: "add" inputs: [1, 2] outputs: [3] }
  inputs: [1, 2]
  outputs: [3]
)txt";

TEST(GraphFromProto, DecodesAValidGraph) {
  auto g = GraphFromProto(Parse(kAdd));
  ASSERT_TRUE(g.ok()) << g.status();
  EXPECT_EQ(g->graph.applies().size(), 1u);
  EXPECT_EQ(g->graph.inputs().size(), 2u);
  EXPECT_EQ(g->graph.outputs()[0]->owner->op, "add");
}

void ExpectInvalid(const std::string& text, const std::string& needle) {
  auto g = GraphFromProto(Parse(text));
  ASSERT_FALSE(g.ok()) << "accepted: " << text;
  EXPECT_EQ(g.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(g.status().message().find(needle), std::string::npos) << g.status();
}

TEST(GraphFromProto, RefusesUnknownOp) {
  std::string text = kAdd;
  text.replace(text.find("\"add\""), 5, "\"frobnicate\"");
  ExpectInvalid(text, "unknown op 'frobnicate'");
}

TEST(GraphFromProto, RefusesWrongDeclaredType) {
  std::string text = kAdd;
  text.replace(text.find("id: 3 type { dtype: DT_FLOAT32"), 30, "id: 3 type { dtype: DT_FLOAT64");
  ExpectInvalid(text, "declared as TensorType(float64, matrix) but the op produces");
}

TEST(GraphFromProto, RefusesUndefinedVariable) {
  std::string text = kAdd;
  text.replace(text.find("inputs: [1, 2] outputs"), 14, "inputs: [1, 9]");
  ExpectInvalid(text, "does not declare");
}

TEST(GraphFromProto, RefusesBadArity) {
  ExpectInvalid(R"txt(
    variables { id: 1 type { dtype: DT_FLOAT32 } input {} }
    variables { id: 2 type { dtype: DT_FLOAT32 } output {} }
    applies { op: "sub" inputs: [1] outputs: [2] }
  )txt",
                "takes 2 inputs, got 1");
}

TEST(GraphFromProto, RefusesShortConstantData) {
  ExpectInvalid(R"txt(
    variables { id: 1 type { dtype: DT_FLOAT32 broadcastable: [false] }
                constant { dtype: DT_FLOAT32 shape: [3] data: "abc" } }
  )txt",
                "needs 12 bytes");
}

TEST(TensorFromProto, RefusesBoolBytesOtherThanZeroAndOne) {
  v1::Tensor t;
  t.set_dtype(v1::DT_BOOL);
  t.add_shape(3);
  t.set_data(std::string("\x01\x00\x01", 3));
  EXPECT_TRUE(TensorFromProto(t).ok());
  t.set_data(std::string("\x01\x00\x02", 3));
  absl::StatusOr<runtime::Tensor> bad = TensorFromProto(t);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("element 2 is the byte 2; a bool must be 0 or 1"),
            std::string::npos)
      << bad.status();
}

TEST(GraphFromProto, RefusesOutOfRangeBoolConstants) {
  ExpectInvalid(R"txt(
    variables { id: 1 type { dtype: DT_BOOL broadcastable: [false] }
                constant { dtype: DT_BOOL shape: [2] data: "\001\377" } }
  )txt",
                "a bool must be 0 or 1");
}

TEST(GraphFromProto, RefusesDroppingNonBroadcastableDim) {
  ExpectInvalid(R"txt(
    variables { id: 1 type { dtype: DT_FLOAT32 broadcastable: [false, false] } input {} }
    variables { id: 2 type { dtype: DT_FLOAT32 broadcastable: [false] } output {} }
    applies { op: "dimshuffle" attrs { key: "new_order" value { ints { values: [1] } } }
              inputs: [1] outputs: [2] }
  )txt",
                "cannot drop non-broadcastable dimension 0");
}

TEST(GraphToProto, RoundTrips) {
  auto g = GraphFromProto(Parse(kAdd));
  ASSERT_TRUE(g.ok());
  v1::Graph encoded;
  GraphToProto(g->graph, &encoded);
  auto again = GraphFromProto(encoded);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->graph.applies().size(), 1u);
}

}  // namespace
}  // namespace tensord::ir
