#include "engine/runtime/memory_stats.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "engine/context/context.h"
#include "engine/runtime/parallel.h"
#include "engine/runtime/tensor.h"

namespace tensord::runtime {
namespace {

TEST(MemoryStatsTest, BuffersChargeTheScopedContextUntilFreed) {
  MemoryCounter* counter = MemoryCounterFor("memory_stats_test_a");
  const int64_t before = counter->in_use();
  Tensor kept;
  {
    ScopedMemoryContext scope(counter);
    Tensor t(DType::kFloat32, {10, 10});
    EXPECT_EQ(counter->in_use(), before + 400);
    kept = Tensor(DType::kFloat64, {3});
    EXPECT_EQ(counter->in_use(), before + 424);
  }
  // Freed after the scope ended: still credited to the counter that was charged.
  EXPECT_EQ(counter->in_use(), before + 24);
  EXPECT_GE(counter->peak(), before + 424);
  kept = Tensor();
  EXPECT_EQ(counter->in_use(), before);
  EXPECT_GE(counter->peak(), before + 424);
}

TEST(MemoryStatsTest, OutsideAnyScopeBuffersAreTheHosts) {
  MemoryCounter* host = MemoryCounterFor("cpu");
  MemoryCounter* other = MemoryCounterFor("memory_stats_test_b");
  const int64_t other_before = other->in_use();
  const int64_t host_before = host->in_use();
  Tensor t(DType::kInt8, {1000});
  EXPECT_EQ(other->in_use(), other_before);
  // Other tests' threads do not allocate here; gtest runs tests one at a time.
  EXPECT_EQ(host->in_use(), host_before + 1000);
}

TEST(MemoryStatsTest, ScopesNestAndAreThreadLocal) {
  MemoryCounter* outer = MemoryCounterFor("memory_stats_test_outer");
  MemoryCounter* inner = MemoryCounterFor("memory_stats_test_inner");
  ScopedMemoryContext a(outer);
  {
    ScopedMemoryContext b(inner);
    EXPECT_EQ(CurrentMemoryCounter(), inner);
    std::thread([&] { EXPECT_EQ(CurrentMemoryCounter(), MemoryCounterFor("cpu")); }).join();
  }
  EXPECT_EQ(CurrentMemoryCounter(), outer);
}

TEST(MemoryStatsTest, ConcurrentAllocationsBalance) {
  MemoryCounter* counter = MemoryCounterFor("memory_stats_test_threads");
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([counter] {
      ScopedMemoryContext scope(counter);
      for (int k = 0; k < 1000; ++k) Tensor t(DType::kFloat32, {16});
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(counter->in_use(), 0);
  EXPECT_GE(counter->peak(), 64);
  EXPECT_LE(counter->peak(), 4 * 64);
}

TEST(MemoryStatsTest, ContextsGetTheirNamesCounter) {
  auto registry = context::ContextRegistry::Create("dev0->cpu", "cpu");
  ASSERT_TRUE(registry.ok()) << registry.status();
  auto dev0 = (*registry)->Find("dev0");
  ASSERT_TRUE(dev0.ok());
  EXPECT_EQ((*dev0)->memory, MemoryCounterFor("dev0"));
  EXPECT_EQ((*registry)->default_context().memory, MemoryCounterFor("cpu"));
}

TEST(MemoryStatsTest, DeviceQuotaBoundsARunsDeviceBuffersWithWhatIsResident) {
  MemoryCounter* device = MemoryCounterFor("memory_stats_test_quota_device");
  device->SetDevice(true);
  MemoryCounter* host = MemoryCounterFor("memory_stats_test_quota_host");
  int64_t resident = 600;
  auto quota = std::make_shared<DeviceQuota>(
      1000, [&] { return resident; }, "tenant 't'");
  ScopedDeviceQuota in_run(quota);
  std::vector<Tensor> kept;
  {
    ScopedMemoryContext on_device(device);
    kept.emplace_back(DType::kInt8, Shape{300});  // 600 + 300
    try {
      Tensor over(DType::kInt8, {200});  // 600 + 500 > 1000
      ADD_FAILURE() << "allocated past the quota";
    } catch (const OutOfDeviceMemory& e) {
      EXPECT_NE(std::string(e.what()).find("tenant 't' would hold 1100 bytes of device memory"),
                std::string::npos)
          << e.what();
    }
    // The refused buffer charged nothing, on the context either.
    EXPECT_EQ(device->in_use(), 300);
    // ParallelFor's workers charge the caller's quota too: every range is refused, including
    // those another thread ran.
    const int threads_before = IntraOpThreads();
    SetIntraOpThreads(4);
    std::atomic<int> refused{0}, elsewhere{0};
    const auto caller = std::this_thread::get_id();
    ParallelFor(64, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        if (std::this_thread::get_id() != caller) ++elsewhere;
        try {
          Tensor t(DType::kInt8, {150});
        } catch (const OutOfDeviceMemory&) {
          ++refused;
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // let workers join in
      }
    });
    SetIntraOpThreads(threads_before);
    EXPECT_EQ(refused.load(), 64);
    EXPECT_GT(elsewhere.load(), 0);
  }
  {
    ScopedMemoryContext on_host(host);  // host memory is not device memory
    kept.emplace_back(DType::kInt8, Shape{5000});
  }
  kept.clear();  // freed buffers give their bytes back
  resident = 0;
  ScopedMemoryContext on_device(device);
  Tensor fits(DType::kInt8, {1000});
  EXPECT_EQ(device->in_use(), 1000);
}

}  // namespace
}  // namespace tensord::runtime
