// Base fixture of the integration suites: one real server per suite, a client and an open
// session per test.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tensord/client.h"
#include "tests/integration/server_process.h"

namespace tensord::client {

class LiveServerTest : public ::testing::Test {
 protected:
  // A suite needing server flags defines its own SetUpTestSuite calling StartServer(flags).
  static void SetUpTestSuite() { StartServer(); }
  static void TearDownTestSuite() {
    EXPECT_EQ(server_->Stop(), 0) << "server did not shut down gracefully";
    delete server_;
    server_ = nullptr;
  }

  static void StartServer(std::vector<std::string> flags = {}) {
    server_ = new testing::ServerProcess(std::move(flags));
    ASSERT_TRUE(server_->running()) << "server did not start";
  }

  void SetUp() override {
    auto c = Client::Connect(server_->address());
    ASSERT_TRUE(c.ok()) << c.status();
    client_ = *std::move(c);
    auto s = client_->OpenSession();
    ASSERT_TRUE(s.ok()) << s.status();
    session_ = std::make_unique<Session>(*std::move(s));
  }

  inline static testing::ServerProcess* server_ = nullptr;
  std::unique_ptr<Client> client_;
  std::unique_ptr<Session> session_;
};

}  // namespace tensord::client
