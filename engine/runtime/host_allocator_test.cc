#include "engine/runtime/host_allocator.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace tensord::runtime {
namespace {

TEST(HostAllocator, ReusesAFreedBlockOfTheSameSize) {
  HostAllocator allocator(1 << 20);
  auto a = allocator.Allocate(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data) % 64, 0u);
  EXPECT_GE(a.capacity, 1000u);
  std::memset(a.data, 1, 1000);
  allocator.Free(a);
  EXPECT_EQ(allocator.stats().cached_blocks, 1);
  auto b = allocator.Allocate(1000);
  EXPECT_EQ(b.data, a.data);
  EXPECT_EQ(allocator.stats().system_allocations, 1);
  EXPECT_EQ(allocator.stats().allocations, 2);
  EXPECT_EQ(allocator.stats().cached_bytes, 0);
  allocator.Free(b);
}

TEST(HostAllocator, TakesTheSmallestBlockThatFitsButNotAMuchLargerOne) {
  HostAllocator allocator(int64_t{64} << 20);
  auto big = allocator.Allocate(1 << 20), mid = allocator.Allocate(300000);
  allocator.Free(big);
  allocator.Free(mid);
  auto c = allocator.Allocate(280000);  // mid: under a quarter larger
  EXPECT_EQ(c.data, mid.data);
  auto d = allocator.Allocate(100000);  // big would waste 10x: a new block
  EXPECT_NE(d.data, big.data);
  EXPECT_EQ(allocator.stats().system_allocations, 3);
  auto e = allocator.Allocate(2 << 20);  // nothing large enough
  EXPECT_EQ(allocator.stats().system_allocations, 4);
  for (auto block : {c, d, e}) allocator.Free(block);
}

TEST(HostAllocator, StaysWithinItsLimitEvictingTheLeastRecentlyCached) {
  HostAllocator allocator(3 * 4096);
  std::vector<HostAllocator::Block> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(allocator.Allocate(4096));
  for (auto b : blocks) allocator.Free(b);
  EXPECT_EQ(allocator.stats().cached_blocks, 3);
  EXPECT_EQ(allocator.stats().cached_bytes, 3 * 4096);
  // The first block freed was evicted; the next allocation takes the oldest one left.
  EXPECT_EQ(allocator.Allocate(4096).data, blocks[1].data);
  // A block larger than the whole cache is freed at once.
  allocator.Free(allocator.Allocate(1 << 20));
  EXPECT_EQ(allocator.stats().cached_bytes, 2 * 4096);
  allocator.Free(blocks[1]);
}

TEST(HostAllocator, ALowerLimitFreesWhatPassesIt) {
  HostAllocator allocator(1 << 20);
  auto a = allocator.Allocate(4096), b = allocator.Allocate(4096);
  allocator.Free(a);
  allocator.Free(b);
  allocator.SetCacheLimit(4096);
  EXPECT_EQ(allocator.stats().cached_blocks, 1);
  allocator.SetCacheLimit(0);
  EXPECT_EQ(allocator.stats().cached_bytes, 0);
  auto c = allocator.Allocate(4096);  // nothing cached: from the system
  EXPECT_EQ(allocator.stats().system_allocations, 3);
  allocator.Free(c);
  EXPECT_EQ(allocator.stats().cached_blocks, 0);
}

TEST(HostAllocator, ZeroBytesIsAValidBlock) {
  HostAllocator allocator(1 << 20);
  auto a = allocator.Allocate(0);
  EXPECT_NE(a.data, nullptr);
  EXPECT_EQ(a.capacity, 64u);
  allocator.Free(a);
  allocator.Free({});  // nothing to take back
  EXPECT_EQ(allocator.stats().cached_blocks, 1);
}

// Runs of many sessions allocate and free at once: the cache stays within its limit, every
// block handed out is distinct while held, and the counts add up.
TEST(HostAllocator, ConcurrentAllocationsAndFreesKeepTheBooks) {
  HostAllocator allocator(1 << 20);
  constexpr int kThreads = 4, kRounds = 2000;
  std::vector<std::thread> threads;
  std::atomic<bool> overlap{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<HostAllocator::Block> held;
      for (int i = 0; i < kRounds; ++i) {
        auto block = allocator.Allocate(64 * (1 + (i + t) % 97));
        // A block another thread also holds would show the other thread's mark.
        std::memset(block.data, t + 1, 64);
        if (static_cast<unsigned char*>(block.data)[63] != t + 1) overlap = true;
        held.push_back(block);
        if (held.size() > 8) {
          const auto* mark = static_cast<unsigned char*>(held.front().data);
          if (mark[0] != t + 1) overlap = true;
          allocator.Free(held.front());
          held.erase(held.begin());
        }
      }
      for (auto block : held) allocator.Free(block);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(overlap);
  const auto stats = allocator.stats();
  EXPECT_EQ(stats.allocations, kThreads * kRounds);
  EXPECT_LE(stats.cached_bytes, 1 << 20);
  EXPECT_LT(stats.system_allocations, stats.allocations);  // blocks were reused
}

}  // namespace
}  // namespace tensord::runtime
