// Big tensors through the C++ client (issue 14, item 6): `x + 1` on 64 MiB of float32, the input
// sent and the result returned, in messages (Function::Run with a HostTensor) and through shared
// memory (a SharedMemoryRegion: the input written into it, the output read from its slot),
// alternated call by call on a server this program starts. The speedup compares calls that
// leave the caller an array of its own (the shared-memory output copied out of the region, as
// a caller keeping it would); a third figure reads the output where the server wrote it.
// Prints the medians in ms. Not a test (ctest does not run it):
//
//   cmake --build build/NAME --target tensord_bench_big_tensor
//   build/NAME/tests/integration/tensord_bench_big_tensor [--calls=15] [--mib=64]
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

// The last element of float32 bytes: a check that costs no copy of them.
float LastFloat(const std::string& bytes) {
  float last;
  std::memcpy(&last, bytes.data() + bytes.size() - sizeof last, sizeof last);
  return last;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tensord::client;  // NOLINT: a benchmark's main
  int calls = 15;
  int64_t mib = 64;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--calls=", 8) == 0) calls = std::max(1, std::atoi(argv[i] + 8));
    if (std::strncmp(argv[i], "--mib=", 6) == 0) mib = std::max(1, std::atoi(argv[i] + 6));
  }
  const int64_t n = mib * (1 << 20) / 4;
  const int64_t bytes = n * 4;
  tensord::testing::ServerProcess server;
  if (!server.running()) {
    std::fprintf(stderr, "the server did not start\n");
    return 1;
  }
  auto client = Client::Connect(server.address());
  Check(client.status(), "connect");
  auto session = (*client)->OpenSession();
  Check(session.status(), "session");
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto f = session->Compile(g, {x}, {x + 1.0f});
  Check(f.status(), "compile");
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = static_cast<float>(i % 1000);
  auto region = session->CreateSharedMemory(2 * bytes);
  Check(region.status(), "shared memory");

  auto in_messages = [&] {
    auto input = HostTensor::FromVector<float>(values, {n});
    Check(input.status(), "input");
    auto out = f->Run({*std::move(input)});
    Check(out.status(), "run");
    if (LastFloat((*out)[0].bytes()) != values[n - 1] + 1) std::exit(2);
  };
  // `copy_out`: the caller takes the output as a HostTensor of its own; else it reads it where
  // the server wrote it.
  auto in_shared_memory = [&](bool copy_out) {
    std::memcpy(region->data(), values.data(), bytes);
    auto out = f->Call({region->Tensor(0, kFloat32, {n})}, nullptr, {region->Slot(bytes, bytes)});
    Check(out.status(), "run");
    const ShmTensor& result = std::get<ShmTensor>((*out)[0]);
    float last;
    if (copy_out) {
      auto host = result.ToHost();
      Check(host.status(), "copy out");
      last = LastFloat(host->bytes());
    } else {
      std::memcpy(&last, result.data + bytes - sizeof last, sizeof last);
    }
    if (last != values[n - 1] + 1) std::exit(2);
  };
  std::vector<double> messages, copied, in_place;
  auto ms = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
  };
  for (int call = -2; call < calls; ++call) {  // two warm-up rounds
    auto t0 = Clock::now();
    in_messages();
    auto t1 = Clock::now();
    in_shared_memory(true);
    auto t2 = Clock::now();
    in_shared_memory(false);
    auto t3 = Clock::now();
    if (call < 0) continue;
    messages.push_back(ms(t0, t1));
    copied.push_back(ms(t1, t2));
    in_place.push_back(ms(t2, t3));
  }
  std::printf(
      "{\"case\": \"cpp_big_tensor_x_plus_1_%lldMiB_f32\", \"median_ms\": {\"messages\": %.2f, "
      "\"shared_memory\": %.2f, \"shared_memory_read_in_place\": %.2f}, "
      "\"shared_memory_speedup\": %.2f, \"calls\": %d}\n",
      static_cast<long long>(mib), Median(messages), Median(copied), Median(in_place),
      Median(messages) / Median(copied), calls);
  return 0;
}
