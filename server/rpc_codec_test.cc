#include "server/rpc_codec.h"

#include <gtest/gtest.h>

#include <string>

#include "google/protobuf/text_format.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {
namespace {

grpc::ByteBuffer Bytes(const std::string& data) {
  grpc::Slice slice(data);
  return grpc::ByteBuffer(&slice, 1);
}

v1::CompileRequest CompileText(const std::string& text) {
  v1::CompileRequest req;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &req)) << text;
  return req;
}

TEST(CheckEnumFields, NamesThePathAndTheValue) {
  v1::CompileRequest req = CompileText(R"txt(
    spec { graph {
      variables { id: 1 type { dtype: DT_FLOAT32 } input {} }
      variables { id: 2 type { dtype: DT_FLOAT64 } input {} }
    } })txt");
  EXPECT_TRUE(CheckEnumFields(req).ok());
  req.mutable_spec()->mutable_graph()->mutable_variables(1)->mutable_type()->set_dtype(
      static_cast<v1::DType>(4096));
  absl::Status s = CheckEnumFields(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "field spec.graph.variables[1].type.dtype of tensord.v1.CompileRequest has value 4096, "
            "which is not a tensord.v1.DType");
}

TEST(CheckEnumFields, ReachesAttributesConstantsAndBodies) {
  // A dtype attribute inside a map, inside a scan body, inside an apply.
  v1::CompileRequest req = CompileText(R"txt(
    spec { graph { applies { op: "scan" bodies {
      applies { op: "cast" attrs { key: "dtype" value { dtype: DT_INT8 } } }
      variables { id: 3 constant { dtype: DT_UINT8 } }
    } } } })txt");
  EXPECT_TRUE(CheckEnumFields(req).ok());
  auto* body = req.mutable_spec()->mutable_graph()->mutable_applies(0)->mutable_bodies(0);
  (*body->mutable_applies(0)->mutable_attrs())["dtype"].set_dtype(static_cast<v1::DType>(-7));
  absl::Status s = CheckEnumFields(req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("spec.graph.applies[0].bodies[0].applies[0].attrs[0].value.dtype"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("value -7"), std::string::npos) << s.message();

  (*body->mutable_applies(0)->mutable_attrs())["dtype"].set_dtype(v1::DT_INT8);
  body->mutable_variables(0)->mutable_constant()->set_dtype(static_cast<v1::DType>(13));
  s = CheckEnumFields(req);
  EXPECT_NE(s.message().find("bodies[0].variables[0].constant.dtype"), std::string::npos)
      << s.message();
}

TEST(CheckEnumFields, CoversTopLevelEnums) {
  v1::DifferentiateRequest req;
  req.set_float_dtype(static_cast<v1::DType>(INT32_MIN));
  absl::Status s = CheckEnumFields(req);
  EXPECT_EQ(s.message(),
            "field float_dtype of tensord.v1.DifferentiateRequest has value -2147483648, which "
            "is not a tensord.v1.DType");
}

TEST(DecodeRequest, RefusesBytesThatAreNotTheMessage) {
  v1::RunRequest req;
  absl::Status s = DecodeRequest(Bytes("\xff"), &req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("could not be decoded as tensord.v1.RunRequest"), std::string::npos)
      << s.message();
}

TEST(DecodeRequest, NamesAStringFieldThatIsNotUtf8) {
  InstallProtobufLogHandler();
  v1::OpenSessionRequest good;
  good.set_client("abc");
  std::string wire = good.SerializeAsString();
  wire.back() = '\xff';  // the last byte of "abc"
  v1::OpenSessionRequest req;
  absl::Status s = DecodeRequest(Bytes(wire), &req);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("UTF-8"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("tensord.v1.OpenSessionRequest.client"), std::string::npos)
      << s.message();
}

TEST(DecodeRequest, RefusesNestingPastTheRecursionLimit) {
  v1::CompileRequest req;
  v1::Graph* g = req.mutable_spec()->mutable_graph();
  for (int i = 0; i < 120; ++i) g = g->add_applies()->add_bodies();
  v1::CompileRequest decoded;
  absl::Status s = DecodeRequest(Bytes(req.SerializeAsString()), &decoded);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("nested"), std::string::npos) << s.message();
}

TEST(DecodeRequest, RoundTripsThroughEncodeResponse) {
  v1::CompileRequest req = CompileText(R"txt(session_id: "s" spec { name: "f" })txt");
  grpc::ByteBuffer bytes;
  ASSERT_TRUE(EncodeResponse(req, &bytes).ok());
  v1::CompileRequest back;
  ASSERT_TRUE(DecodeRequest(bytes, &back).ok());
  EXPECT_EQ(back.spec().name(), "f");
}

TEST(Echo, KeepsShortTextAndCutsLongText) {
  EXPECT_EQ(Echo("abc"), "abc");
  EXPECT_EQ(Echo(std::string(100, 'x'), 4), "xxxx...(100 bytes)");
}

}  // namespace
}  // namespace tensord::server
