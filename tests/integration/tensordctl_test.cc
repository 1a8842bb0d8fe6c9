// tensordctl against a live server, and the server's --config=FILE.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "tests/integration/live_server_test.h"

namespace tensord::client {
namespace {

struct Result {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

Result RunCtl(const std::string& args) {
  Result r;
  std::string command = std::string(TENSORDCTL_PATH) + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return r;
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0) r.output.append(buffer, n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

class TensordctlTest : public LiveServerTest {
 protected:
  std::string Address() const { return "--address=" + server_->address() + " "; }
};

TEST_F(TensordctlTest, InfoPrintsVersionAndStats) {
  auto info = client_->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  Result r = RunCtl(Address() + "info");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("version:          " + info->version()), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("floatX:           float32"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cache hits:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("sessions:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("cpu -> cpu"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("(memory in use "), std::string::npos) << r.output;
}

TEST_F(TensordctlTest, HealthIsServing) {
  Result r = RunCtl(Address() + "health");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "SERVING\n");
}

TEST_F(TensordctlTest, UnreachableServerIsAClearError) {
  // Port 1 on loopback: nothing listens there.
  Result info = RunCtl("--address=127.0.0.1:1 --timeout_ms=500 info");
  EXPECT_EQ(info.exit_code, 3) << info.output;
  EXPECT_NE(info.output.find("could not connect to tensord at 127.0.0.1:1"), std::string::npos)
      << info.output;
  Result health = RunCtl("--address=127.0.0.1:1 --timeout_ms=500 health");
  EXPECT_NE(health.exit_code, 0) << health.output;
  EXPECT_NE(health.output.find("health check of 127.0.0.1:1 failed"), std::string::npos)
      << health.output;
}

TEST_F(TensordctlTest, UsageErrors) {
  Result none = RunCtl(Address());
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.output.find("no command given"), std::string::npos) << none.output;
  Result unknown = RunCtl(Address() + "frobnicate");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("unknown command 'frobnicate'"), std::string::npos);
  Result arity = RunCtl(Address() + "describe only-one-arg");
  EXPECT_EQ(arity.exit_code, 2);
  EXPECT_NE(arity.output.find("wrong number of arguments for describe"), std::string::npos);
}

TEST_F(TensordctlTest, SharedDescribeAndProfileOfASession) {
  auto w = session_->CreateShared("weights", HostTensor::Vector<float>({1, 2, 3}));
  ASSERT_TRUE(w.ok()) << w.status();
  GraphBuilder g;
  Var x = g.Vector("x"), y = g.Vector("y");
  auto f = session_->Compile(g, {x, y}, {x + y});
  ASSERT_TRUE(f.ok()) << f.status();

  Result shared = RunCtl(Address() + "shared " + session_->id());
  EXPECT_EQ(shared.exit_code, 0) << shared.output;
  EXPECT_NE(shared.output.find("weights"), std::string::npos) << shared.output;
  EXPECT_NE(shared.output.find("(3,)"), std::string::npos) << shared.output;

  Result describe = RunCtl(Address() + "describe " + session_->id() + " " + f->id());
  EXPECT_EQ(describe.exit_code, 0) << describe.output;
  EXPECT_NE(describe.output.find("add"), std::string::npos) << describe.output;

  // The profile may be empty (profiling off) or an error, but never a crash or a hang.
  Result profile = RunCtl(Address() + "profile " + session_->id() + " " + f->id());
  EXPECT_TRUE(profile.exit_code == 0 || profile.exit_code == 1) << profile.output;

  Result bad = RunCtl(Address() + "shared no-such-session");
  EXPECT_EQ(bad.exit_code, 1) << bad.output;
  EXPECT_NE(bad.output.find("tensordctl: "), std::string::npos) << bad.output;
}

std::string WriteConfig(const std::string& name, const std::string& text) {
  std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

TEST(ServerConfigFileTest, FileSetsFlagsAndCommandLineOverridesIt) {
  std::string path = WriteConfig("tensord_cfg_test.conf",
                                 "# test config\nfloatX = float64\n--session_idle_timeout_s=77\n");
  {
    testing::ServerProcess server({"--config=" + path});
    ASSERT_TRUE(server.running());
    auto client = Client::Connect(server.address());
    ASSERT_TRUE(client.ok()) << client.status();
    auto info = (*client)->GetServerInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->float_x(), "float64");
    auto session = (*client)->OpenSession();
    ASSERT_TRUE(session.ok()) << session.status();
    EXPECT_EQ(session->idle_timeout_seconds(), 77);
  }
  {
    testing::ServerProcess server({"--floatX=float32", "--config=" + path});
    ASSERT_TRUE(server.running());
    auto client = Client::Connect(server.address());
    ASSERT_TRUE(client.ok()) << client.status();
    auto info = (*client)->GetServerInfo();
    ASSERT_TRUE(info.ok()) << info.status();
    EXPECT_EQ(info->float_x(), "float32");
  }
  std::remove(path.c_str());
}

TEST(ServerConfigFileTest, BadConfigFilesStopTheServer) {
  std::string path = WriteConfig("tensord_cfg_bad.conf", "flaotX = float64\n");
  testing::ServerProcess unknown({"--config=" + path});
  EXPECT_FALSE(unknown.running());
  EXPECT_EQ(unknown.Stop(), -1);  // it exited on its own
  std::remove(path.c_str());
  testing::ServerProcess missing({"--config=/nonexistent/tensord.conf"});
  EXPECT_FALSE(missing.running());
}

}  // namespace
}  // namespace tensord::client
