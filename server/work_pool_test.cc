#include "server/work_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>

namespace tensord::server {
namespace {

TEST(WorkPool, RunsTasksConcurrentlyAndDrainsOnDestruction) {
  std::atomic<int> done{0};
  // Declared before the pool, so they outlive it: its destructor waits for the tasks that use
  // them (found by the ASan job: declared after, they died first).
  std::promise<void> a_started, b_started;
  auto a = a_started.get_future().share(), b = b_started.get_future().share();
  {
    WorkPool pool(2);
    EXPECT_EQ(pool.threads(), 2);
    // Two tasks that each wait for the other to start: they finish only if both run at once.
    pool.Post([&] {
      a_started.set_value();
      b.wait();
      ++done;
    });
    pool.Post([&] {
      b_started.set_value();
      a.wait();
      ++done;
    });
    for (int i = 0; i < 100; ++i) pool.Post([&] { ++done; });
  }  // the destructor runs what was posted, then joins
  EXPECT_EQ(done.load(), 102);
}

TEST(WorkPool, AtLeastOneThread) {
  std::promise<int> result;  // outlives the pool, as above
  WorkPool pool(0);
  EXPECT_EQ(pool.threads(), 1);
  pool.Post([&] { result.set_value(7); });
  EXPECT_EQ(result.get_future().get(), 7);
}

}  // namespace
}  // namespace tensord::server
