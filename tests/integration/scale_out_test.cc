// The C++ client behind HAProxy (deploy/haproxy/tensord.cfg): its session's calls carry the
// routing key, so they all reach the replica that holds the session. Skipped without haproxy.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdlib>
#include <filesystem>

#include "tensord/client.h"
#include "tests/integration/server_process.h"

namespace tensord::client {
namespace {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

bool Accepts(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

// Stops the proxy however the test ends.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid <= 0) return;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
  }
};

std::string FindHaproxy() {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/usr/local/sbin"}) {
    std::string path = std::string(dir) + "/haproxy";
    if (std::filesystem::exists(path)) return path;
  }
  return "";
}

TEST(ScaleOutTest, ASessionBehindHaproxyStaysOnItsReplica) {
  const std::string haproxy = FindHaproxy();
  if (haproxy.empty()) GTEST_SKIP() << "haproxy is not installed (deploy/install-deps.sh)";
  testing::ServerProcess a, b, c;
  ASSERT_TRUE(a.running() && b.running() && c.running());
  const int port = FreePort();
  const std::string frontend = "127.0.0.1:" + std::to_string(port);
  setenv("TENSORD_FRONTEND", frontend.c_str(), 1);
  setenv("TENSORD_REPLICA_1", a.address().c_str(), 1);
  setenv("TENSORD_REPLICA_2", b.address().c_str(), 1);
  setenv("TENSORD_REPLICA_3", c.address().c_str(), 1);
  std::string config = std::string(TENSORD_SOURCE_DIR) + "/deploy/haproxy/tensord.cfg";
  std::vector<std::string> args = {haproxy, "-db", "-q", "-f", config};
  std::vector<char*> argv;
  for (auto& s : args) argv.push_back(s.data());
  argv.push_back(nullptr);
  ChildGuard proxy;
  ASSERT_EQ(posix_spawn(&proxy.pid, argv[0], nullptr, nullptr, argv.data(), environ), 0);
  for (int i = 0; i < 200 && !Accepts(port); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(Accepts(port)) << "haproxy did not listen on " << frontend;
  auto client = Client::Connect(frontend);
  ASSERT_TRUE(client.ok()) << client.status();
  // Several sessions, several calls each: without the routing key, calls would go round robin
  // and two of every three would find no session.
  for (int s = 0; s < 4; ++s) {
    auto session = (*client)->OpenSession();
    ASSERT_TRUE(session.ok()) << session.status();
    auto counter = session->CreateShared("counter", HostTensor::Scalar<int64_t>(0));
    ASSERT_TRUE(counter.ok()) << counter.status();
    GraphBuilder g;
    Var v = counter->In(g);
    auto f = session->Compile(g, {}, {}, {{v, v + g.Literal<int64_t>(1)}});
    ASSERT_TRUE(f.ok()) << f.status();
    for (int i = 0; i < 6; ++i) ASSERT_TRUE(f->Run({}).ok());
    EXPECT_EQ(*counter->GetValue()->ToVector<int64_t>(), std::vector<int64_t>{6});
    EXPECT_TRUE(session->Close().ok());
  }
}

}  // namespace
}  // namespace tensord::client
