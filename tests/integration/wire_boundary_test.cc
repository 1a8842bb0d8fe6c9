// The server's wire boundary under hostile bytes, sent to the real server as raw gRPC calls:
// undecodable requests, every enum field of every request message set to numbers its enum does
// not define, the Differentiate findings of the fuzzing report, and mutated valid requests.
// Never a crash; always a status that names the problem.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <climits>
#include <future>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const google::protobuf::ServiceDescriptor* ComputeDescriptor() {
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
      "tensord.v1.Compute");
}

class WireBoundaryTest : public LiveServerTest {
 protected:
  void SetUp() override {
    LiveServerTest::SetUp();
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }
  void TearDown() override {
    EXPECT_TRUE(client_->GetServerInfo().ok()) << "server stopped answering";
  }

  // Calls /tensord.v1.Compute/<method> with `bytes` as the request, as any client could.
  grpc::Status CallRaw(const std::string& method, const std::string& bytes) {
    grpc::GenericStub stub(channel_);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, "/tensord.v1.Compute/" + method, grpc::StubOptions(), &request, &response,
                   [&done](grpc::Status s) { done.set_value(std::move(s)); });
    return done.get_future().get();
  }

  // Differentiate in this test's session: `text` (a DifferentiateRequest in text format) with
  // `float_dtype` when it is not DT_INVALID.
  grpc::Status Differentiate(const std::string& text, int float_dtype = v1::DT_INVALID) {
    v1::DifferentiateRequest req;
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &req)) << text;
    req.set_session_id(session_->id());
    req.set_float_dtype(static_cast<v1::DType>(float_dtype));
    v1::DifferentiateResponse resp;
    grpc::ClientContext ctx;
    return client_->stub().Differentiate(&ctx, req, &resp);
  }

  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(WireBoundaryTest, UndecodableRequestsAreInvalidArgumentNamingTheMessage) {
  const auto* service = ComputeDescriptor();
  ASSERT_NE(service, nullptr);
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* m = service->method(i);
    for (const std::string& bytes : {std::string("\xff"), std::string("\x0a\x05\x61", 3)}) {
      grpc::Status s = CallRaw(m->name(), bytes);
      EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << m->name();
      EXPECT_NE(s.error_message().find("could not be decoded as " + m->input_type()->full_name()),
                std::string::npos)
          << m->name() << ": " << s.error_message();
    }
  }
}

// Every path from a request message to an enum field, through singular, repeated and map
// fields, visiting each message type at most once per path (Graph -> Apply -> Graph ends).
void CollectEnumPaths(const Descriptor* d, std::vector<const FieldDescriptor*>& path,
                      std::vector<const Descriptor*>& open,
                      std::vector<std::vector<const FieldDescriptor*>>& out) {
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor* f = d->field(i);
    path.push_back(f);
    if (f->type() == FieldDescriptor::TYPE_ENUM) {
      out.push_back(path);
    } else if (const Descriptor* m = f->message_type();
               m != nullptr && std::find(open.begin(), open.end(), m) == open.end()) {
      open.push_back(m);
      CollectEnumPaths(m, path, open, out);
      open.pop_back();
    }
    path.pop_back();
  }
}

// A request whose only content is the enum at the end of `path`, set to `value`.
std::string RequestWithEnum(const Descriptor* type, const std::vector<const FieldDescriptor*>& path,
                            int value) {
  std::unique_ptr<Message> root(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
  Message* m = root.get();
  for (size_t k = 0; k + 1 < path.size(); ++k) {
    const auto* r = m->GetReflection();
    m = path[k]->is_repeated() ? r->AddMessage(m, path[k]) : r->MutableMessage(m, path[k]);
  }
  const FieldDescriptor* leaf = path.back();
  if (leaf->is_repeated()) {
    m->GetReflection()->AddEnumValue(m, leaf, value);
  } else {
    m->GetReflection()->SetEnumValue(m, leaf, value);
  }
  return root->SerializeAsString();
}

TEST_F(WireBoundaryTest, OutOfRangeEnumsInEveryFieldOfEveryRpcAreRefused) {
  const auto* service = ComputeDescriptor();
  int checked = 0;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    std::vector<std::vector<const FieldDescriptor*>> paths;
    std::vector<const FieldDescriptor*> path;
    std::vector<const Descriptor*> open{method->input_type()};
    CollectEnumPaths(method->input_type(), path, open, paths);
    for (const auto& p : paths) {
      const int last =
          p.back()->enum_type()->value(p.back()->enum_type()->value_count() - 1)->number();
      for (int value : {-1, INT_MIN, last + 1, 100, 255, 4096, 65536, 188152, INT_MAX}) {
        grpc::Status s = CallRaw(method->name(), RequestWithEnum(method->input_type(), p, value));
        EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
            << method->name() << " " << p.back()->full_name() << "=" << value;
        EXPECT_NE(s.error_message().find(p.back()->name()), std::string::npos) << s.error_message();
        EXPECT_NE(s.error_message().find("has value " + std::to_string(value)), std::string::npos)
            << s.error_message();
        ++checked;
      }
    }
  }
  // Tensors, types, attributes and float_dtype across the RPCs that carry them.
  EXPECT_GE(checked, 9 * 10);
}

TEST_F(WireBoundaryTest, DifferentiateFloatDtypeFindings) {
  for (int value : {4096, 65536, 188152, INT_MAX, INT_MIN, 100, 1000, 13, 99, 255, 256, -1}) {
    grpc::Status s = Differentiate("", value);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << value;
    EXPECT_NE(s.error_message().find("float_dtype"), std::string::npos) << s.error_message();
    EXPECT_NE(s.error_message().find(std::to_string(value)), std::string::npos)
        << s.error_message();
    for (char c : s.error_message()) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "non-printable byte in: " << s.error_message();
    }
  }
  // float16 is a DType, but no kernel computes it: refused by name, not an INTERNAL error.
  grpc::Status s = Differentiate("", v1::DT_FLOAT16);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << s.error_message();
  EXPECT_NE(s.error_message().find("float16"), std::string::npos) << s.error_message();
}

// A graph squaring one variable, declared with `declaration` (its type and source).
std::string SquareOf(const std::string& declaration, const std::string& dtype) {
  return "graph { variables { id: 1 " + declaration +
         " } variables { id: 2 type { dtype: " + dtype +
         " } output {} } applies { op: \"mul\" inputs: [1, 1] outputs: [2] } } " +
         "cost: 2 wrt: [1]";
}

TEST_F(WireBoundaryTest, DifferentiateChecksSharedVariablesAsCompileDoes) {
  for (const std::string& shared_id : {std::string("shared-999999"), std::string("x")}) {
    grpc::Status s = Differentiate(
        SquareOf("type { dtype: DT_FLOAT64 } shared { id: \"" + shared_id + "\" }", "DT_FLOAT64"));
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message();
    EXPECT_NE(s.error_message().find("unknown shared variable '" + shared_id + "'"),
              std::string::npos)
        << s.error_message();
  }
}

TEST_F(WireBoundaryTest, Float16GraphsAreUnimplementedNotInternal) {
  grpc::Status s =
      Differentiate(SquareOf("name: \"h\" type { dtype: DT_FLOAT16 } input {}", "DT_FLOAT16"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << s.error_message();
  EXPECT_NE(s.error_message().find("float16"), std::string::npos) << s.error_message();
}

TEST_F(WireBoundaryTest, HugeEchoedIdsAreTruncatedNotResourceExhausted) {
  v1::GetSharedRequest req;
  req.set_session_id(std::string(1 << 20, 's'));
  req.set_id("v");
  v1::GetSharedResponse resp;
  grpc::ClientContext ctx;
  grpc::Status s = client_->stub().GetShared(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << s.error_message().substr(0, 200);
  EXPECT_LT(s.error_message().size(), 4200u);
}

// Byte-level mutations of a valid Compile request: whatever they decode to, the answer is a
// status a client can act on, never INTERNAL/UNKNOWN (a server bug) or a dead server.
TEST_F(WireBoundaryTest, MutatedCompileRequestsNeverBreakTheServer) {
  v1::CompileRequest valid;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"txt(spec { graph {
      variables { id: 1 name: "x" type { dtype: DT_FLOAT32 broadcastable: [false] } input {} }
      variables { id: 2 type { dtype: DT_FLOAT32 broadcastable: [false] }
                  constant { dtype: DT_FLOAT32 shape: [1] data: "\000\000\200?" } }
      variables { id: 3 type { dtype: DT_FLOAT32 broadcastable: [false] } output {} }
      variables { id: 4 type { dtype: DT_FLOAT32 broadcastable: [false] } output {} }
      applies { op: "add" inputs: [1, 2] outputs: [3] }
      applies { op: "cast" inputs: [3] outputs: [4] attrs { key: "dtype" value { dtype: DT_FLOAT32 } } }
      inputs: [1] outputs: [4] } })txt",
                                                            &valid));
  valid.set_session_id(session_->id());
  const std::string bytes = valid.SerializeAsString();
  std::mt19937 rng(20261206);
  int invalid_argument = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string mutated = bytes;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 4); k < n; ++k) {
      mutated[rng() % mutated.size()] = static_cast<char>(rng());
    }
    grpc::Status s = CallRaw("Compile", mutated);
    EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << s.error_message();
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN) << s.error_message();
    if (!s.ok()) {
      EXPECT_FALSE(s.error_message().empty()) << "code " << s.error_code();
    }
    invalid_argument += s.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
  }
  EXPECT_GT(invalid_argument, 300);
}

}  // namespace
}  // namespace tensord::client
