// Small-call latency of the C++ client (issue 14, item 5): Function::Run of `x + 1` on 10
// float32 (input and result over the wire) against a bare unary call to the same server (gRPC's
// health check: empty messages, no handler work), alternated call by call on a server this
// program starts, so that load from other processes hits both alike. Prints the medians in
// microseconds and the client's margin over the bare call. Not a test (ctest does not run it):
//
//   cmake --build build/NAME --target tensord_bench_small_call
//   build/NAME/tests/integration/tensord_bench_small_call [--calls=5000]
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tensord/client.h"
#include "tests/bench/cpp_bench.h"
#include "tests/integration/server_process.h"

namespace {

using tensord::bench::Check;
using tensord::bench::Median;
using Clock = std::chrono::steady_clock;

template <typename F>
double TimeUs(F&& f) {
  const auto start = Clock::now();
  f();
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tensord::client;  // NOLINT: a benchmark's main
  int calls = 5000;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--calls=", 8) == 0) calls = std::max(1, std::atoi(argv[i] + 8));
  }
  tensord::testing::ServerProcess server;
  if (!server.running()) {
    std::fprintf(stderr, "the server did not start\n");
    return 1;
  }
  auto client = Client::Connect(server.address());
  Check(client.status(), "connect");
  auto session = (*client)->OpenSession();
  Check(session.status(), "open session");
  GraphBuilder g;
  Var x = g.Vector("x", tensord::v1::DT_FLOAT32);
  auto f = session->Compile(g, {x}, {x + 1.0f});
  Check(f.status(), "compile");
  const HostTensor input = HostTensor::Vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  // The bare call, as generated stubs make it, on a channel of its own to the same server.
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  const grpc::internal::RpcMethod health("/grpc.health.v1.Health/Check",
                                         grpc::internal::RpcMethod::NORMAL_RPC, channel);
  const grpc::Slice empty_message("", 0);  // a buffer without slices is not a message
  auto bare_call = [&] {
    grpc::ClientContext context;
    grpc::ByteBuffer request(&empty_message, 1), response;
    grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel.get(), health, &context, request, &response);
    Check(FromGrpcStatus(s), "health check");
  };
  auto run = [&] {
    auto out = f->Run({input});
    Check(out.status(), "run");
    if ((*out)[0].num_elements() != 10) std::exit(1);
  };
  for (int i = 0; i < std::min(calls, 200); ++i) run(), bare_call();  // warm up
  std::vector<double> run_us, bare_us;
  for (int i = 0; i < calls; ++i) {
    run_us.push_back(TimeUs(run));
    bare_us.push_back(TimeUs(bare_call));
  }
  const double run_median = Median(run_us), bare_median = Median(bare_us);
  std::printf(
      "{\"case\": \"cpp_small_call_x_plus_1_10_f32\", \"median_us\": {\"tensord_cpp\": %.1f, "
      "\"grpc_health_cpp\": %.1f}, \"tensord_minus_grpc_health_us\": %.1f, \"calls\": %d}\n",
      run_median, bare_median, run_median - bare_median, calls);
  return 0;
}
