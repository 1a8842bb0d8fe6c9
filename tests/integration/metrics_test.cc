// The Prometheus endpoint of the real server: drive it through the C++ client, then scrape
// /metrics over plain HTTP as Prometheus would and check the families and their values.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <sstream>
#include <vector>

#include "tensord/client.h"
#include "tests/integration/server_process.h"

namespace tensord::client {
namespace {

// A minimal HTTP/1.1 GET; returns the whole response (status line, headers and body), or ""
// when the connection fails.
std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      for (ssize_t n; (n = recv(fd, buf, sizeof(buf), 0)) > 0;) response.append(buf, n);
    }
  }
  close(fd);
  return response;
}

// The value of one series (its name with labels exactly as exposed), or -1 when absent.
double Sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(MetricsTest, ScrapeReflectsRpcsCompilesRunsAndState) {
  // One cache entry, so a third distinct graph evicts an unused executable.
  testing::ServerProcess server({"--contexts=dev0->cpu", "--cache_max_entries=1"});
  ASSERT_TRUE(server.running()) << "server did not start";
  ASSERT_GT(server.metrics_port(), 0) << "no metrics port written";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();

  GraphBuilder g;
  Var x = g.Vector("x", kFloat32), y = g.Vector("y", kFloat32);
  auto add = session->Compile(g, {x, y}, {x + y});
  ASSERT_TRUE(add.ok()) << add.status();
  auto again = session->Compile(g, {x, y}, {x + y});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->cache_hit());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(
        add->Run({HostTensor::Vector<float>({1, 2}), HostTensor::Vector<float>({3, 4})}).ok());
  }
  ASSERT_TRUE(session->CreateShared("w", HostTensor::Vector<float>({1, 2, 3}), "dev0").ok());
  {
    // A second session's executable becomes unused when the session closes...
    auto other = (*client)->OpenSession();
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE(other->Compile(g, {x, y}, {x * y}).ok());
    ASSERT_TRUE(other->Close().ok());
  }
  // ...so this miss evicts it.
  ASSERT_TRUE(session->Compile(g, {x, y}, {x - y}).ok());
  // A failing call is counted under its code.
  grpc::ClientContext ctx;
  v1::RunRequest bad;
  bad.set_session_id("no-such-session");
  v1::RunResponse ignored;
  EXPECT_EQ((*client)->stub().Run(&ctx, bad, &ignored).error_code(), grpc::StatusCode::NOT_FOUND);

  std::string response = HttpGet(server.metrics_port(), "/metrics");
  ASSERT_EQ(response.rfind("HTTP/1.1 200", 0), 0u) << response;
  EXPECT_NE(response.find("# TYPE tensord_rpc_requests_total counter"), std::string::npos);
  EXPECT_EQ(Sample(response, R"(tensord_rpc_requests_total{code="OK",method="Compile"})"), 4);
  EXPECT_EQ(Sample(response, R"(tensord_rpc_requests_total{code="OK",method="Run"})"), 2);
  EXPECT_EQ(Sample(response, R"(tensord_rpc_requests_total{code="NOT_FOUND",method="Run"})"), 1);
  EXPECT_EQ(Sample(response, R"(tensord_rpc_requests_total{code="OK",method="OpenSession"})"), 2);
  EXPECT_EQ(Sample(response, R"(tensord_rpc_duration_seconds_count{method="Compile"})"), 4);
  EXPECT_GT(Sample(response, R"(tensord_rpc_duration_seconds_sum{method="Compile"})"), 0);
  EXPECT_EQ(Sample(response, "tensord_compile_cache_hits_total"), 1);
  EXPECT_EQ(Sample(response, "tensord_compile_cache_misses_total"), 3);
  EXPECT_EQ(Sample(response, "tensord_compile_cache_evictions_total"), 1);
  EXPECT_EQ(Sample(response, "tensord_compile_cache_entries"), 2);
  EXPECT_EQ(Sample(response, "tensord_compile_duration_seconds_count"), 3);
  EXPECT_EQ(Sample(response, "tensord_run_duration_seconds_count"), 2);
  EXPECT_EQ(Sample(response, "tensord_runs_in_flight"), 0);
  EXPECT_EQ(Sample(response, "tensord_sessions"), 1);
  EXPECT_EQ(Sample(response, R"(tensord_shared_variables{context="dev0"})"), 1);
  EXPECT_EQ(Sample(response, R"(tensord_shared_variable_bytes{context="dev0"})"), 12);
  EXPECT_EQ(Sample(response, R"(tensord_shared_variables{context="cpu"})"), 0);
  EXPECT_GT(Sample(response, "tensord_process_resident_memory_bytes"), 1 << 20);
  EXPECT_EQ(HttpGet(server.metrics_port(), "/other").rfind("HTTP/1.1 404", 0), 0u);
}

// The per-context memory gauges follow a shared variable's buffer: created on dev0 it is dev0's
// memory until deleted; the peak keeps the high-water mark. GetServerInfo reports the same.
TEST(MetricsTest, MemoryGaugesFollowSharedVariablesPerContext) {
  testing::ServerProcess server({"--contexts=dev0->cpu"});
  ASSERT_TRUE(server.running()) << "server did not start";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  const std::string in_use = R"(tensord_memory_in_use_bytes{context="dev0"})";
  const std::string peak = R"(tensord_memory_peak_bytes{context="dev0"})";

  std::string before = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_NE(before.find("# TYPE tensord_memory_in_use_bytes gauge"), std::string::npos);
  EXPECT_NE(before.find("# TYPE tensord_memory_peak_bytes gauge"), std::string::npos);
  EXPECT_GE(Sample(before, R"(tensord_memory_in_use_bytes{context="cpu"})"), 0);
  const double base = Sample(before, in_use);
  ASSERT_GE(base, 0);

  std::vector<float> values(1000, 1.5f);
  auto w = session->CreateShared("w", HostTensor::Vector<float>(values), "dev0");
  ASSERT_TRUE(w.ok()) << w.status();
  std::string during = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_EQ(Sample(during, in_use), base + 4000);
  EXPECT_GE(Sample(during, peak), base + 4000);
  auto info = (*client)->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  for (const auto& c : info->contexts()) {
    if (c.name() != "dev0") continue;
    EXPECT_EQ(c.memory_in_use_bytes(), base + 4000);
    EXPECT_GE(c.memory_peak_bytes(), base + 4000);
  }

  ASSERT_TRUE(w->Delete().ok());
  std::string after = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_EQ(Sample(after, in_use), base);
  EXPECT_GE(Sample(after, peak), base + 4000);

  // A run on dev0 allocates its input and output buffers there, both alive at once.
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  FunctionOptions options;
  options.context = "dev0";
  auto spec = FunctionSpecBuilder(g).Inputs({x}).Outputs({x * x}).Options(options).Build();
  ASSERT_TRUE(spec.ok()) << spec.status();
  auto f = session->Compile(*spec);
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Run({HostTensor::Vector<float>(std::vector<float>(4096, 2.0f))}).ok());
  std::string ran = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_GE(Sample(ran, peak), base + 2 * 4 * 4096);
}

TEST(MetricsTest, EmptyMetricsListenDisablesTheEndpoint) {
  testing::ServerProcess server({"--metrics_listen="});
  ASSERT_TRUE(server.running()) << "server did not start";
  EXPECT_EQ(server.metrics_port(), 0);
}

TEST(MetricsTest, ATakenMetricsPortStopsTheServerAtStartup) {
  testing::ServerProcess first;
  ASSERT_TRUE(first.running());
  testing::ServerProcess second(
      {"--metrics_listen=127.0.0.1:" + std::to_string(first.metrics_port())});
  EXPECT_FALSE(second.running());
}

// Transfers count their bytes on the device side, per direction: a run of exp(x) on dev0 (a
// simulated device) moves x up and the result down.
TEST(MetricsTest, TransferBytesPerContextAndDirection) {
  testing::ServerProcess server({"--contexts=dev0->sim0", "--device=dev0"});
  ASSERT_TRUE(server.running()) << "server did not start";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = session->Compile(g, {x}, {Exp(x)});
  ASSERT_TRUE(f.ok()) << f.status();
  ASSERT_TRUE(f->Run({HostTensor::Vector<float>(std::vector<float>(1000, 0.5f))}).ok());
  const std::string text = HttpGet(server.metrics_port(), "/metrics");
  EXPECT_NE(text.find("# TYPE tensord_transfer_bytes_total counter"), std::string::npos);
  auto moved = [&](const char* context, const char* direction) {
    return Sample(text, std::string("tensord_transfer_bytes_total{context=\"") + context +
                            "\",direction=\"" + direction + "\"}");
  };
  EXPECT_EQ(moved("dev0", "host_to_device"), 4000);
  EXPECT_EQ(moved("dev0", "device_to_host"), 4000);
  EXPECT_EQ(moved("dev0", "device_to_device"), 0);
  EXPECT_EQ(moved("cpu", "host_to_device"), 0);
}

// A context on a GPU the server does not see stops it at start, unless the contexts are
// optional: then it is listed as unavailable and using it is refused by name.
TEST(MetricsTest, ContextsOnMissingGpusAreUnavailableWhenOptional) {
  {
    testing::ServerProcess strict({"--contexts=dev1->cuda99"});
    EXPECT_FALSE(strict.running());
  }
  testing::ServerProcess server({"--contexts=dev1->cuda99", "--contexts_optional"});
  ASSERT_TRUE(server.running()) << "server did not start";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto info = (*client)->GetServerInfo();
  ASSERT_TRUE(info.ok()) << info.status();
  bool listed = false;
  for (const auto& c : info->contexts()) {
    if (c.name() != "dev1") continue;
    listed = true;
    EXPECT_FALSE(c.available());
    EXPECT_NE(c.description().find("unavailable"), std::string::npos) << c.description();
  }
  EXPECT_TRUE(listed);
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  auto w = session->CreateShared("w", HostTensor::Vector<float>({1.0f}), "dev1");
  EXPECT_EQ(w.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(w.status().message().find("context 'dev1' (cuda99) is unavailable"), std::string::npos)
      << w.status();
}

// A loop of runs takes its tensor buffers from the cache of freed ones: past the first calls
// the allocations counted from the system stop growing while those from the cache grow. The
// product runs on oneDNN (--gemm_library=onednn) and gives the same numbers as a loop.
TEST(MetricsTest, SteadyRunsTakeBuffersFromTheCacheAndOneDnnMultiplies) {
  // The cache named explicitly: AddressSanitizer builds keep none by default.
  testing::ServerProcess server({"--gemm_library=onednn", "--host_cache_bytes=67108864"});
  ASSERT_TRUE(server.running()) << "server did not start";
  auto client = Client::Connect(server.address());
  ASSERT_TRUE(client.ok()) << client.status();
  auto session = (*client)->OpenSession();
  ASSERT_TRUE(session.ok()) << session.status();
  GraphBuilder g;
  Var x = g.Matrix("x", kFloat32), w = g.Matrix("w", kFloat32);
  auto f = session->Compile(g, {x, w}, {Exp(Dot(x, w) * 0.01f)});
  ASSERT_TRUE(f.ok()) << f.status();
  const int n = 160;  // 160^3 products: big enough to be worth oneDNN's team
  std::vector<float> xs(n * n), ws(n * n);
  for (int i = 0; i < n * n; ++i) xs[i] = (i % 7) * 0.1f, ws[i] = (i % 5) * 0.1f;
  std::vector<float> want(n * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      double sum = 0;
      for (int p = 0; p < n; ++p) sum += double{xs[i * n + p]} * ws[p * n + j];
      want[i * n + j] = static_cast<float>(std::exp(sum * 0.01));
    }
  auto system_allocations = [&] {
    return Sample(HttpGet(server.metrics_port(), "/metrics"),
                  "tensord_host_buffer_allocations_total{source=\"system\"}");
  };
  auto cache_allocations = [&] {
    return Sample(HttpGet(server.metrics_port(), "/metrics"),
                  "tensord_host_buffer_allocations_total{source=\"cache\"}");
  };
  double system_after_warmup = 0, cache_after_warmup = 0;
  for (int call = 0; call < 30; ++call) {
    if (call == 5)
      system_after_warmup = system_allocations(), cache_after_warmup = cache_allocations();
    auto out = f->Run(
        {*HostTensor::FromVector<float>(xs, {n, n}), *HostTensor::FromVector<float>(ws, {n, n})});
    ASSERT_TRUE(out.ok()) << out.status();
    auto got = (*out)[0].ToVector<float>();
    ASSERT_TRUE(got.ok());
    for (int i = 0; i < n * n; i += 97) ASSERT_NEAR((*got)[i], want[i], 1e-4f * want[i]) << i;
  }
  EXPECT_GT(system_after_warmup, 0);
  // The output (100 KiB) goes into its reply as its own buffer, which gRPC may still hold when
  // the next call allocates its inputs: the cache needs one more block the first time that
  // happens, which may be after the warm-up. Then none.
  EXPECT_LE(system_allocations(), system_after_warmup + 1);
  // Two inputs and an output a call.
  EXPECT_GE(cache_allocations(), cache_after_warmup + 25 * 3 - 1);
  EXPECT_GE(Sample(HttpGet(server.metrics_port(), "/metrics"), "tensord_host_buffer_cache_bytes"),
            0);
}

TEST(MetricsTest, BadAllocatorGemmAndVectorMathFlagsStopTheServerAtStartup) {
  for (const char* flag :
       {"--gemm_library=mkl", "--host_cache_bytes=-1", "--vector_math_isa=avx1024"}) {
    testing::ServerProcess server({flag});
    EXPECT_FALSE(server.running()) << flag;  // it exits at once, naming the flag
  }
}

}  // namespace
}  // namespace tensord::client
