// The caching allocator against a fake device that counts its mallocs and frees and runs out
// of memory where told: reuse in steady state, size classes, the preallocated region (best fit,
// merging freed neighbours, Theano's log line), out of memory as RESOURCE_EXHAUSTED after
// giving the cache back, and every block returned at the end.
#include "engine/backends/cuda/caching_allocator.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

namespace tensord::cuda {
namespace {

// A simulated device that counts its mallocs and frees, can break, and fails the test for a
// block never freed.
class FakeDevice final : public DeviceMemory {
 public:
  explicit FakeDevice(size_t total) : memory_(total) {}
  ~FakeDevice() override { EXPECT_EQ(memory_.blocks(), 0u) << "blocks never freed"; }
  absl::StatusOr<void*> Malloc(size_t bytes) override {
    if (broken) return absl::InternalError("the device is gone");
    absl::StatusOr<void*> p = memory_.Malloc(bytes);
    if (p.ok()) ++mallocs;
    return p;
  }
  void Free(void* p) override {
    const size_t before = memory_.blocks();
    memory_.Free(p);
    ASSERT_EQ(memory_.blocks(), before - 1) << "freed twice or never allocated";
    ++frees;
  }
  size_t Total() const override { return memory_.Total(); }
  int mallocs = 0, frees = 0;
  bool broken = false;

 private:
  SimulatedDeviceMemory memory_;
};

constexpr size_t kMiB = size_t{1} << 20;

TEST(CachingAllocator, RoundsToSizeClasses) {
  EXPECT_EQ(CachingAllocator::RoundSize(0), 512u);
  EXPECT_EQ(CachingAllocator::RoundSize(1), 512u);
  EXPECT_EQ(CachingAllocator::RoundSize(513), 1024u);
  EXPECT_EQ(CachingAllocator::RoundSize(kMiB), kMiB);
  EXPECT_EQ(CachingAllocator::RoundSize(kMiB + 1), 2 * kMiB);
  EXPECT_EQ(CachingAllocator::RoundSize(5 * kMiB), 6 * kMiB);
}

TEST(CachingAllocator, ALoopOfStepsReusesItsBlocksWithoutTheDevice) {
  FakeDevice device(64 * kMiB);
  {
    CachingAllocator a(device, "cuda0");
    for (int step = 0; step < 100; ++step) {
      std::vector<void*> blocks;
      for (size_t bytes : {size_t{1000}, 3 * kMiB, size_t{40}, 3 * kMiB - 7}) {
        auto p = a.Allocate(bytes);
        ASSERT_TRUE(p.ok()) << p.status();
        blocks.push_back(*p);
      }
      for (void* p : blocks) a.Free(p);
    }
    EXPECT_EQ(device.mallocs, 4);  // the first step's
    const auto s = a.stats();
    EXPECT_EQ(s.allocations, 400);
    EXPECT_EQ(s.device_allocations, 4);
    EXPECT_EQ(s.in_use_bytes, 0);
    EXPECT_EQ(s.peak_bytes, static_cast<int64_t>(1024 + 4 * kMiB + 4 * kMiB + 512));
    EXPECT_EQ(s.cached_bytes, s.peak_bytes);
    a.EmptyCache();
    EXPECT_EQ(device.frees, 4);
    EXPECT_EQ(a.stats().cached_bytes, 0);
  }
}

TEST(CachingAllocator, ACachedBlockServesOnlyRequestsOfAtLeastHalfItsSize) {
  FakeDevice device(64 * kMiB);
  CachingAllocator a(device, "cuda0");
  void* big = *a.Allocate(8 * kMiB);
  a.Free(big);
  void* small = *a.Allocate(2 * kMiB);  // a quarter: a new block
  EXPECT_NE(small, big);
  void* half = *a.Allocate(4 * kMiB);  // half: the cached one
  EXPECT_EQ(half, big);
  a.Free(small);
  a.Free(half);
}

TEST(CachingAllocator, OutOfMemoryGivesTheCacheBackThenIsResourceExhausted) {
  FakeDevice device(10 * kMiB);
  CachingAllocator a(device, "cuda1");
  void* p = *a.Allocate(6 * kMiB);
  a.Free(p);                      // cached: the device has 4 MiB left
  auto q = a.Allocate(8 * kMiB);  // fits only once the cache is returned
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(device.frees, 1);
  auto r = a.Allocate(4 * kMiB);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(
      r.status().message().find("out of memory on cuda1: 4194304 bytes asked, 8388608 in use"),
      std::string::npos)
      << r.status();
  const auto s = a.stats();
  EXPECT_EQ(s.cached_bytes, 0);
  EXPECT_EQ(s.device_allocations, 2);
  EXPECT_EQ(s.in_use_bytes, static_cast<int64_t>(8 * kMiB));
  // A size no device has: refused before its rounding could wrap around.
  EXPECT_EQ(a.Allocate(~size_t{0} - 5).status().code(), absl::StatusCode::kResourceExhausted);
  a.Free(*q);
}

TEST(CachingAllocator, OtherDeviceErrorsPassThroughAsTheyAre) {
  FakeDevice device(10 * kMiB);
  CachingAllocator a(device, "cuda0");
  device.broken = true;
  auto p = a.Allocate(1000);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(p.status().message(), "the device is gone");
  EXPECT_EQ(a.Preallocate(0.5).status().code(), absl::StatusCode::kInternal);
}

TEST(CachingAllocator, BlocksStillHandedOutAreReturnedWithTheAllocator) {
  FakeDevice device(100 * kMiB);  // its destructor fails the test for any block left
  {
    CachingAllocator a(device, "cuda0");
    ASSERT_TRUE(a.Preallocate(10).ok());
    ASSERT_TRUE(a.Allocate(kMiB).ok());       // in the region
    ASSERT_TRUE(a.Allocate(20 * kMiB).ok());  // from the device
    void* cached = *a.Allocate(3000);
    a.Free(cached);
  }
  EXPECT_EQ(device.frees, device.mallocs);
}

TEST(CachingAllocator, PreallocatesAFractionOrMegabytesAndLogsAsTheanoDid) {
  FakeDevice device(16000 * kMiB / 16);  // 1000 MiB
  CachingAllocator a(device, "cuda0");
  auto line = a.Preallocate(0.5);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, "Preallocating 500/1000 Mb (0.500000) on cuda0");
  EXPECT_EQ(a.stats().reserved_bytes, static_cast<int64_t>(500 * kMiB));
  EXPECT_EQ(a.Preallocate(0.1).status().code(), absl::StatusCode::kInvalidArgument);

  FakeDevice other(1000 * kMiB);
  CachingAllocator b(other, "cuda1");
  EXPECT_EQ(*b.Preallocate(300), "Preallocating 300/1000 Mb (0.300000) on cuda1");
  CachingAllocator c(other, "cuda1");
  for (double bad : {0.0, -1.0, std::numeric_limits<double>::infinity(),
                     std::numeric_limits<double>::quiet_NaN(), 1e-300}) {
    EXPECT_EQ(c.Preallocate(bad).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(c.Preallocate(800).status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(c.Preallocate(1e30).status().code(), absl::StatusCode::kResourceExhausted);

  // A fraction is capped at 0.95 of the device, as Theano's; MiB need not be whole 2 MiB.
  FakeDevice third(1000 * kMiB);
  CachingAllocator d(third, "cuda2");
  EXPECT_EQ(*d.Preallocate(1.0), "Preallocating 950/1000 Mb (0.950000) on cuda2");
  FakeDevice fourth(1000 * kMiB);
  CachingAllocator e(fourth, "cuda3");
  EXPECT_EQ(*e.Preallocate(301), "Preallocating 301/1000 Mb (0.301000) on cuda3");

  // Only before the first allocation.
  FakeDevice fifth(1000 * kMiB);
  CachingAllocator f(fifth, "cuda4");
  void* p = *f.Allocate(100);
  EXPECT_EQ(f.Preallocate(0.5).status().code(), absl::StatusCode::kInvalidArgument);
  f.Free(p);
}

TEST(CachingAllocator, MergingFindsTheRightOneOfEqualFreeRanges) {
  FakeDevice device(1000 * kMiB);
  CachingAllocator a(device, "cuda0");
  ASSERT_TRUE(a.Preallocate(8).ok());
  void* b[4];
  for (void*& p : b) p = *a.Allocate(2 * kMiB);  // the whole region, in four
  a.Free(b[0]);
  a.Free(b[2]);  // two free ranges of the same size
  a.Free(b[1]);  // merges with both: one 6 MiB range
  void* six = *a.Allocate(6 * kMiB);
  EXPECT_EQ(six, b[0]);
  EXPECT_EQ(device.mallocs, 1);
  a.Free(six);
  a.Free(b[3]);
  void* all = *a.Allocate(8 * kMiB);  // and with the last: the whole region again
  EXPECT_EQ(all, b[0]);
  a.Free(all);
}

TEST(CachingAllocator, TheRegionIsCarvedBestFitAndMergedBack) {
  FakeDevice device(1000 * kMiB);
  CachingAllocator a(device, "cuda0");
  ASSERT_TRUE(a.Preallocate(10).ok());  // 10 MiB
  void* x = *a.Allocate(2 * kMiB);
  void* y = *a.Allocate(2 * kMiB);
  void* z = *a.Allocate(2 * kMiB);
  EXPECT_EQ(static_cast<char*>(y) - static_cast<char*>(x), static_cast<ptrdiff_t>(2 * kMiB));
  EXPECT_EQ(device.mallocs, 1);  // all from the region
  a.Free(x);
  a.Free(z);                        // free: [0, 2) and [4, 10) MiB
  void* w = *a.Allocate(2 * kMiB);  // best fit: the 2 MiB hole
  EXPECT_EQ(w, x);
  a.Free(w);
  a.Free(y);  // everything merged: one 10 MiB range again
  void* all = *a.Allocate(10 * kMiB);
  EXPECT_EQ(all, x);
  void* past = *a.Allocate(kMiB);  // the region is full: from the device
  EXPECT_EQ(device.mallocs, 2);
  a.Free(all);
  a.Free(past);
  EXPECT_EQ(a.stats().in_use_bytes, 0);
}

TEST(CachingAllocator, FreeingAForeignPointerChangesNothing) {
  FakeDevice device(10 * kMiB);
  CachingAllocator a(device, "cuda0");
  int local = 0;
  a.Free(&local);  // reported on stderr, never handed to the device
  a.Free(nullptr);
  EXPECT_EQ(device.frees, 0);
  EXPECT_EQ(a.stats().in_use_bytes, 0);
}

TEST(CachingAllocator, WithoutCachingAFreedBlockGoesBackToTheDeviceAtOnce) {
  FakeDevice device(64 * kMiB);
  CachingAllocator a(device, "sim0");
  void* kept = *a.Allocate(kMiB);
  a.Free(kept);
  EXPECT_EQ(a.stats().cached_bytes, static_cast<int64_t>(kMiB));
  a.SetCaching(false);  // the cache goes back too
  EXPECT_EQ(device.frees, 1);
  EXPECT_EQ(a.stats().cached_bytes, 0);
  for (int i = 0; i < 3; ++i) a.Free(*a.Allocate(1000));
  EXPECT_EQ(device.mallocs, 4);
  EXPECT_EQ(device.frees, 4);
  EXPECT_EQ(a.stats().cached_bytes, 0);
}

TEST(SimulatedDeviceMemory, HandsOutAlignedHostMemoryUpToItsCapacity) {
  SimulatedDeviceMemory memory(10 * kMiB);
  auto a = memory.Malloc(6 * kMiB);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(*a) % 256, 0u);
  static_cast<char*>(*a)[6 * kMiB - 1] = 1;  // host memory: written as any
  auto b = memory.Malloc(5 * kMiB);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(b.status().message().find("4194304 of its 10485760 bytes free, 5242880 asked"),
            std::string::npos)
      << b.status();
  EXPECT_EQ(memory.used(), 6 * kMiB);
  memory.Free(*a);
  EXPECT_EQ(memory.used(), 0u);
  EXPECT_TRUE(memory.Malloc(10 * kMiB).ok());  // freed by its destructor
  EXPECT_EQ(memory.blocks(), 1u);
}

}  // namespace
}  // namespace tensord::cuda
