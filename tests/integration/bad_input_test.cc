// Bad input gets a clear gRPC error naming the problem, and the server stays up.
#include <gtest/gtest.h>

#include "google/protobuf/text_format.h"
#include "tensord/client.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

using ::tensord::v1::CompileRequest;
using ::tensord::v1::CompileResponse;

class BadInputTest : public LiveServerTest {
 protected:
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  void TearDown() override {
    // Whatever the test sent, the server must still answer.
    EXPECT_TRUE(client_->GetServerInfo().ok()) << "server stopped answering";
  }

  absl::Status CompileText(const std::string& spec_text, CompileResponse* out = nullptr) {
    CompileRequest req;
    req.set_session_id(session_->id());
    EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(spec_text, req.mutable_spec()));
    CompileResponse resp;
    grpc::ClientContext ctx;
    absl::Status s = FromGrpcStatus(client_->stub().Compile(&ctx, req, &resp));
    if (out) *out = resp;
    return s;
  }

  absl::Status RunRaw(const std::string& function_id, std::vector<HostTensor> inputs) {
    ::tensord::v1::RunRequest req;
    req.set_session_id(session_->id());
    req.set_function_id(function_id);
    for (auto& t : inputs) *req.add_inputs() = t.ToProto();
    ::tensord::v1::RunResponse resp;
    grpc::ClientContext ctx;
    return FromGrpcStatus(client_->stub().Run(&ctx, req, &resp));
  }
};

#define EXPECT_STATUS(expr, want_code, needle)                                              \
  do {                                                                                      \
    absl::Status _s = (expr);                                                               \
    EXPECT_EQ(_s.code(), absl::StatusCode::want_code) << _s;                                \
    EXPECT_NE(_s.message().find(needle), std::string::npos) << "message: " << _s.message(); \
  } while (0)

constexpr char kAddSpec[] = R"txt(
  graph {
    variables { id: 1 name: "x" type { dtype: DT_FLOAT32 broadcastable: [false, false] } input {} }
    variables { id: 2 name: "y" type { dtype: DT_FLOAT32 broadcastable: [false, false] } input {} }
    variables { id: 3 type { dtype: DT_FLOAT32 broadcastable: [false, false] } output {} }
    applies { op: "add" inputs: [1, 2] outputs: [3] }
    inputs: [1, 2]
    outputs: [3]
  }
)txt";

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST_F(BadInputTest, MalformedGraph) {
  EXPECT_STATUS(CompileText(Replace(kAddSpec, "inputs: [1, 2] outputs", "inputs: [1, 7] outputs")),
                kInvalidArgument, "variable 7");
  EXPECT_STATUS(CompileText(Replace(kAddSpec, "outputs: [3]\n  }", "outputs: [42]\n  }")),
                kInvalidArgument, "unknown variable 42");
  EXPECT_STATUS(CompileText("graph { variables { id: 1 type { dtype: DT_FLOAT32 } } }"),
                kInvalidArgument, "has no source");
}

TEST_F(BadInputTest, UnknownOp) {
  EXPECT_STATUS(CompileText(Replace(kAddSpec, "\"add\"", "\"frobnicate\"")), kInvalidArgument,
                "unknown op 'frobnicate'");
}

TEST_F(BadInputTest, TypeMismatch) {
  EXPECT_STATUS(CompileText(Replace(kAddSpec, "id: 3 type { dtype: DT_FLOAT32",
                                    "id: 3 type { dtype: DT_INT8")),
                kInvalidArgument,
                "declared as TensorType(int8, matrix) but the op produces "
                "TensorType(float32, matrix)");
  // A raw apply whose declared type disagrees with the server's inference (3-d . matrix is 3-d).
  GraphBuilder g;
  Var a = g.Input("a", kFloat32, {false, false, false});
  Var b = g.Matrix("b", kFloat32);
  Var wrong = g.Apply("dot", {a, b}, {}, {g.Matrix("m", kFloat32).type()})[0];
  auto spec = FunctionSpecBuilder(g).Inputs({a, b}).Outputs({wrong}).Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_STATUS(session_->Compile(*spec).status(), kInvalidArgument,
                "declared as TensorType(float32, matrix) but the op produces "
                "TensorType(float32, (False, False, False))");
}

TEST_F(BadInputTest, WrongInputCountDtypeAndShape) {
  CompileResponse compiled;
  ASSERT_TRUE(CompileText(kAddSpec, &compiled).ok());
  const std::string& fn = compiled.function_id();
  auto m = *HostTensor::Matrix<float>({{1, 2}, {3, 4}});
  EXPECT_STATUS(RunRaw(fn, {m}), kInvalidArgument, "takes 2 inputs, got 1");
  auto m64 = *HostTensor::Matrix<double>({{1, 2}, {3, 4}});
  EXPECT_STATUS(RunRaw(fn, {m, m64}), kInvalidArgument,
                "TensorType(float32, matrix) cannot store a value of dtype float64");
  EXPECT_STATUS(RunRaw(fn, {m, HostTensor::Vector<float>({1, 2})}), kInvalidArgument,
                "has 1 dimensions");
  auto wide = *HostTensor::Matrix<float>({{1, 2, 3}, {4, 5, 6}});
  EXPECT_STATUS(RunRaw(fn, {m, wide}), kInvalidArgument, "cannot be broadcast");
  ::tensord::v1::RunRequest req;
  req.set_session_id(session_->id());
  req.set_function_id(fn);
  *req.add_inputs() = m.ToProto();
  *req.add_inputs() = m.ToProto();
  req.mutable_inputs(1)->set_data("short");
  ::tensord::v1::RunResponse resp;
  grpc::ClientContext ctx;
  EXPECT_STATUS(FromGrpcStatus(client_->stub().Run(&ctx, req, &resp)), kInvalidArgument,
                "needs 16 bytes of data, got 5");
}

TEST_F(BadInputTest, UnknownHandles) {
  EXPECT_STATUS(RunRaw("fn-does-not-exist", {}), kNotFound, "unknown function 'fn-does-not-exist'");
  CompileResponse compiled;
  ASSERT_TRUE(CompileText(kAddSpec, &compiled).ok());
  ::tensord::v1::ReleaseFunctionRequest rel;
  rel.set_session_id(session_->id());
  rel.set_function_id(compiled.function_id());
  ::tensord::v1::ReleaseFunctionResponse rel_resp;
  grpc::ClientContext rel_ctx;
  ASSERT_TRUE(client_->stub().ReleaseFunction(&rel_ctx, rel, &rel_resp).ok());
  EXPECT_STATUS(RunRaw(compiled.function_id(), {}), kNotFound, "unknown function");
  EXPECT_STATUS(CompileText(R"txt(graph {
    variables { id: 1 type { dtype: DT_FLOAT32 } shared { id: "shared-999" } }
    outputs: [1] })txt"),
                kNotFound, "unknown shared variable 'shared-999'");
  ::tensord::v1::GetSharedRequest get;
  get.set_session_id("no-such-session");
  get.set_id("x");
  ::tensord::v1::GetSharedResponse get_resp;
  grpc::ClientContext get_ctx;
  EXPECT_STATUS(FromGrpcStatus(client_->stub().GetShared(&get_ctx, get, &get_resp)), kNotFound,
                "unknown session 'no-such-session'");
}

TEST_F(BadInputTest, UnknownContext) {
  EXPECT_STATUS(CompileText(std::string(kAddSpec) + "context: \"dev7\""), kFailedPrecondition,
                "unknown context 'dev7'");
  EXPECT_STATUS(session_->CreateShared("w", HostTensor::Scalar<float>(1), "dev7").status(),
                kFailedPrecondition, "unknown context 'dev7'");
}

TEST_F(BadInputTest, MissingInputAndBadUpdate) {
  EXPECT_STATUS(CompileText(Replace(kAddSpec, "inputs: [1, 2]\n", "inputs: [1]\n")),
                kInvalidArgument, "missing input: y");
  auto w = session_->CreateShared("w", HostTensor::Scalar<double>(1.0));
  ASSERT_TRUE(w.ok());
  std::string spec = absl::StrCat(R"txt(graph {
    variables { id: 1 type { dtype: DT_FLOAT64 } shared { id: ")txt",
                                  w->id(), R"txt(" } }
    variables { id: 2 type { dtype: DT_FLOAT32 } input {} }
    inputs: [2] }
    updates { variable: 1 value: 2 })txt");
  EXPECT_STATUS(CompileText(spec), kInvalidArgument,
                "an update must have the same type as the original shared variable");
}

// Shapes a request controls must never overflow, over-allocate or disagree with the declared
// rank (each of these once crashed the server).
TEST_F(BadInputTest, HostileShapesAreRefused) {
  const std::string reshape_spec = R"txt(graph {
    variables { id: 1 type { dtype: DT_FLOAT32 broadcastable: [false] } input {} }
    variables { id: 2 type { dtype: DT_INT64 broadcastable: [false] } input {} }
    variables { id: 3 type { dtype: DT_FLOAT32 broadcastable: [false, false] } output {} }
    variables { id: 4 type { dtype: DT_FLOAT32 broadcastable: [false] } output {} }
    applies { op: "reshape" attrs { key: "ndim" value { i: 2 } } inputs: [1, 2] outputs: [3] }
    applies { op: "sum" attrs { key: "axis" value { ints { values: [1] } } } inputs: [3] outputs: [4] }
    inputs: [1, 2] outputs: [4] })txt";
  CompileResponse compiled;
  ASSERT_TRUE(CompileText(reshape_spec, &compiled).ok());
  auto one = HostTensor::Vector<float>({1});
  EXPECT_STATUS(
      RunRaw(compiled.function_id(), {one, HostTensor::Vector<int64_t>({7, 0x6DB6DB6DB6DB6DB7})}),
      kInvalidArgument, "cannot reshape array of size 1");
  EXPECT_STATUS(RunRaw(compiled.function_id(), {one, HostTensor::Vector<int64_t>({1})}),
                kInvalidArgument, "declared with ndim=2");
  EXPECT_STATUS(RunRaw(compiled.function_id(), {one, HostTensor::Vector<int64_t>({})}),
                kInvalidArgument, "declared with ndim=2");

  EXPECT_STATUS(CompileText(Replace(reshape_spec, "value { i: 2 }", "value { i: 4294967295 }")),
                kInvalidArgument, "ndim must be between 0 and 64");

  const std::string alloc_spec = R"txt(graph {
    variables { id: 1 type { dtype: DT_FLOAT32 } constant { dtype: DT_FLOAT32 data: "\0\0\0\0" } }
    variables { id: 2 type { dtype: DT_INT64 } input {} }
    variables { id: 3 type { dtype: DT_INT64 } input {} }
    variables { id: 4 type { dtype: DT_FLOAT32 broadcastable: [false, false] } output {} }
    applies { op: "alloc" inputs: [1, 2, 3] outputs: [4] }
    inputs: [2, 3] outputs: [4] })txt";
  ASSERT_TRUE(CompileText(alloc_spec, &compiled).ok());
  ASSERT_TRUE(RunRaw(compiled.function_id(),
                     {HostTensor::Scalar<int64_t>(2), HostTensor::Scalar<int64_t>(2)})
                  .ok());
  EXPECT_STATUS(RunRaw(compiled.function_id(), {HostTensor::Scalar<int64_t>(7),
                                                HostTensor::Scalar<int64_t>(0x6DB6DB6DB6DB6DB7)}),
                kResourceExhausted, "would exceed the server's limit");
  EXPECT_STATUS(RunRaw(compiled.function_id(),
                       {HostTensor::Scalar<int64_t>(50000), HostTensor::Scalar<int64_t>(100000)}),
                kResourceExhausted, "--max_tensor_bytes");

  ::tensord::v1::RunRequest req;
  req.set_session_id(session_->id());
  req.set_function_id(compiled.function_id());
  req.add_inputs()->set_dtype(::tensord::v1::DT_FLOAT32);
  req.mutable_inputs(0)->add_shape(int64_t{1} << 36);
  ::tensord::v1::RunResponse resp;
  grpc::ClientContext ctx;
  EXPECT_STATUS(FromGrpcStatus(client_->stub().Run(&ctx, req, &resp)), kResourceExhausted,
                "input 0");
}

TEST_F(BadInputTest, UpdateMayNotWidenABroadcastablePattern) {
  auto row = HostTensor::FromVector<float>({1, 2, 3}, {1, 3});
  ASSERT_TRUE(row.ok());
  auto w = session_->CreateShared("w", *row, "", {true, false});
  ASSERT_TRUE(w.ok()) << w.status();
  GraphBuilder g;
  Var m = g.Matrix("m", kFloat32);
  auto spec = FunctionSpecBuilder(g).Inputs({m}).Update(w->In(g), m).Build();
  if (spec.ok()) {
    EXPECT_STATUS(session_->Compile(*spec).status(), kInvalidArgument,
                  "an update must have the same type as the original shared variable");
  }
}

TEST_F(BadInputTest, ProfileOfAnUnknownFunctionIsNotFound) {
  ::tensord::v1::GetProfileRequest req;
  req.set_session_id(session_->id());
  req.set_function_id("no-such-function");
  ::tensord::v1::GetProfileResponse resp;
  grpc::ClientContext ctx;
  EXPECT_EQ(FromGrpcStatus(client_->stub().GetProfile(&ctx, req, &resp)).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tensord::client
