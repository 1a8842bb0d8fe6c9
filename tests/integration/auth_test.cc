// Bearer tokens through the C++ client: ClientOptions::token on every call (sessions, their
// keepalive, raw stub calls with Authorize), UNAUTHENTICATED without one.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

constexpr char kToken[] = "cpp-client-token-0123456789";

class AuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tokens_path_ = new std::string("/tmp/tensord-auth-test-tokens-" + std::to_string(getpid()));
    std::ofstream(*tokens_path_) << kToken << " cpp\n";
    server_ = new testing::ServerProcess({"--auth_tokens_file=" + *tokens_path_});
    ASSERT_TRUE(server_->running());
  }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0);
    delete server_;
    std::remove(tokens_path_->c_str());
    delete tokens_path_;
  }

  static std::unique_ptr<Client> Connect(std::string token) {
    ClientOptions options;
    options.token = std::move(token);
    auto c = Client::Connect(server_->address(), options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  inline static testing::ServerProcess* server_ = nullptr;
  inline static std::string* tokens_path_ = nullptr;
};

TEST_F(AuthTest, TheClientsTokenAuthorizesEveryCall) {
  auto client = Connect(kToken);
  ASSERT_TRUE(client->GetServerInfo().ok());
  auto session = client->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  auto w = session->CreateShared("w", HostTensor::Scalar<double>(2.0));
  ASSERT_TRUE(w.ok()) << w.status();
  GraphBuilder g;
  Var x = g.Scalar("x", kFloat64);
  auto f = session->Compile(g, {x}, {x * w->In(g)});
  ASSERT_TRUE(f.ok()) << f.status();
  auto out = f->Run({HostTensor::Scalar<double>(3.0)});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*(*out)[0].ToVector<double>(), std::vector<double>{6.0});
  // Raw stub calls carry it with Authorize.
  v1::ListSharedRequest req;
  req.set_session_id(session->id());
  v1::ListSharedResponse resp;
  grpc::ClientContext ctx;
  Authorize(kToken, &ctx);
  EXPECT_TRUE(client->stub().ListShared(&ctx, req, &resp).ok());
  EXPECT_TRUE(session->Close().ok());
}

TEST_F(AuthTest, CallsWithoutAKnownTokenAreUnauthenticated) {
  for (const char* token : {"", "some-other-token-0123456789"}) {
    auto client = Connect(token);
    auto info = client->GetServerInfo();
    EXPECT_EQ(info.status().code(), absl::StatusCode::kUnauthenticated) << info.status();
    EXPECT_EQ(client->OpenSession().status().code(), absl::StatusCode::kUnauthenticated);
  }
}

}  // namespace
}  // namespace tensord::client
