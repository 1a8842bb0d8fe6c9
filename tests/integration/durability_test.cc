// Sessions saved to --state_dir come back in a restarted server (the C++ client's Save()).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "tensord/client.h"
#include "tests/integration/server_process.h"

namespace tensord::client {
namespace {

class StateDir {
 public:
  StateDir() {
    char path[] = "/tmp/tensord-state-XXXXXX";
    const char* made = mkdtemp(path);
    EXPECT_NE(made, nullptr) << "mkdtemp failed";
    path_ = made != nullptr ? made : "/nonexistent/tensord-state";
  }
  ~StateDir() { std::filesystem::remove_all(path_); }
  std::string flag() const { return "--state_dir=" + path_; }

 private:
  std::string path_;
};

absl::Status RawStatus(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), s.error_message());
}

TEST(DurabilityTest, ASavedSessionRunsOnInTheNextServer) {
  StateDir state;
  std::string session_id, function_id, shared_id;
  {
    testing::ServerProcess server({state.flag(), "--snapshot_interval_s=0"});
    ASSERT_TRUE(server.running());
    auto client = *Client::Connect(server.address());
    auto session = *client->OpenSession();
    auto counter = session.CreateShared("counter", HostTensor::Scalar<int64_t>(5));
    ASSERT_TRUE(counter.ok()) << counter.status();
    GraphBuilder g;
    Var c = counter->In(g);
    auto f = session.Compile(g, {}, {c}, {{c, c * g.Literal<int64_t>(2)}});
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(f->Run({}).ok());
    auto saved = session.Save();
    ASSERT_TRUE(saved.ok()) << saved.status();
    EXPECT_EQ(saved->shared_variables(), 1);
    EXPECT_EQ(saved->functions(), 1);
    EXPECT_GT(saved->bytes(), 0);
    session_id = session.id();
    function_id = f->id();
    shared_id = counter->id();
    // Killed, not stopped: only what Save() wrote survives (a stop would save again).
    kill(server.pid(), SIGKILL);
  }
  testing::ServerProcess server({state.flag()});
  ASSERT_TRUE(server.running());
  auto client = *Client::Connect(server.address());
  v1::RunRequest run;
  run.set_session_id(session_id);
  run.set_function_id(function_id);
  v1::RunResponse ran;
  grpc::ClientContext run_ctx;
  ASSERT_TRUE(client->stub().Run(&run_ctx, run, &ran).ok());
  auto before = HostTensor::FromProto(ran.outputs(0).tensor());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before->ToVector<int64_t>(), std::vector<int64_t>{10});  // as saved, then doubled
  v1::GetSharedRequest get;
  get.set_session_id(session_id);
  get.set_id(shared_id);
  v1::GetSharedResponse got;
  grpc::ClientContext get_ctx;
  ASSERT_TRUE(client->stub().GetShared(&get_ctx, get, &got).ok());
  EXPECT_EQ(*HostTensor::FromProto(got.value())->ToVector<int64_t>(), std::vector<int64_t>{20});
}

TEST(DurabilityTest, SaveWithoutAStateDirIsAFailedPrecondition) {
  testing::ServerProcess server;
  ASSERT_TRUE(server.running());
  auto client = *Client::Connect(server.address());
  auto session = *client->OpenSession();
  auto saved = session.Save();
  EXPECT_EQ(saved.status().code(), absl::StatusCode::kFailedPrecondition) << saved.status();
  EXPECT_NE(saved.status().message().find("--state_dir"), std::string::npos);
  v1::SaveSessionRequest unknown;
  unknown.set_session_id("0123456789abcdef0123456789abcdef");
  v1::SaveSessionResponse response;
  grpc::ClientContext ctx;
  EXPECT_EQ(RawStatus(client->stub().SaveSession(&ctx, unknown, &response)).code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace tensord::client
