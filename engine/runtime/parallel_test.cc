#include "engine/runtime/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <new>
#include <set>
#include <thread>
#include <utility>
#include <vector>

namespace tensord::runtime {
namespace {

// Every index once, in ranges of whole grains, over more than one thread when asked.
TEST(ParallelForTest, CoversEveryIndexOnceInWholeGrains) {
  SetIntraOpThreads(4);
  std::vector<std::atomic<int>> seen(100'003);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::vector<std::pair<int64_t, int64_t>> ranges;
  ParallelFor(static_cast<int64_t>(seen.size()), 1000, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) seen[i]++;
    std::lock_guard<std::mutex> lock(mu);
    threads.insert(std::this_thread::get_id());
    ranges.emplace_back(begin, end);
  });
  for (const auto& s : seen) ASSERT_EQ(s.load(), 1);
  EXPECT_GT(ranges.size(), 1u);
  for (const auto& [begin, end] : ranges) {
    EXPECT_EQ(begin % 1000, 0);
    if (end != static_cast<int64_t>(seen.size())) EXPECT_EQ((end - begin) % 1000, 0);
  }
  EXPECT_GE(threads.size(), 1u);  // how many helped depends on the machine's load
}

TEST(ParallelForTest, SmallLoopsAndNestedOnesRunOnTheCaller) {
  SetIntraOpThreads(4);
  const auto me = std::this_thread::get_id();
  int calls = 0;
  ParallelFor(1999, 1000, [&](int64_t begin, int64_t end) {
    EXPECT_EQ(std::this_thread::get_id(), me);
    EXPECT_EQ(begin, 0);
    EXPECT_EQ(end, 1999);
    ++calls;
  });
  EXPECT_EQ(calls, 1);
  ParallelFor(0, 1, [&](int64_t, int64_t) { ADD_FAILURE() << "nothing to do"; });
  std::atomic<int> inner_calls{0};
  ParallelFor(8, 1, [&](int64_t, int64_t) {
    const auto here = std::this_thread::get_id();
    ParallelFor(10'000, 1, [&](int64_t begin, int64_t end) {
      EXPECT_EQ(std::this_thread::get_id(), here);  // no fan-out from inside a range
      EXPECT_EQ(end - begin, 10'000);
      inner_calls++;
    });
  });
  EXPECT_EQ(inner_calls.load(), 8);
}

// Runs on several threads at once share the pool and all finish.
TEST(ParallelForTest, ConcurrentCallersAllComplete) {
  SetIntraOpThreads(3);
  std::vector<std::thread> callers;
  std::atomic<int64_t> total{0};
  for (int t = 0; t < 6; ++t) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        ParallelFor(20'000, 512, [&](int64_t begin, int64_t end) { total += end - begin; });
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(total.load(), 6 * 50 * 20'000);
}

// An exception in any range reaches the caller once every range is done; the thread can
// fan out again afterwards.
TEST(ParallelForTest, ARangesExceptionReachesTheCallerAfterTheOthersFinish) {
  SetIntraOpThreads(4);
  std::atomic<int64_t> done{0}, failed{0};
  EXPECT_THROW(ParallelFor(100'000, 1000,
                           [&](int64_t begin, int64_t end) {
                             if (begin <= 50'000 && 50'000 < end) {
                               failed = end - begin;
                               throw std::bad_alloc();
                             }
                             done += end - begin;
                           }),
               std::bad_alloc);
  EXPECT_EQ(done.load() + failed.load(), 100'000);  // every other range ran to its end
  std::atomic<int> ranges{0};
  ParallelFor(100'000, 1000, [&](int64_t, int64_t) { ranges++; });
  EXPECT_GT(ranges.load(), 1);
}

}  // namespace
}  // namespace tensord::runtime
