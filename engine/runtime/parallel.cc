#include "engine/runtime/parallel.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "engine/runtime/memory_stats.h"

namespace tensord::runtime {
namespace {

std::atomic<int> configured_threads{0};
thread_local bool inside_parallel_for = false;

// Marks the thread as running ranges while it lives.
class InsideParallelFor {
 public:
  InsideParallelFor() : previous_(inside_parallel_for) { inside_parallel_for = true; }
  ~InsideParallelFor() { inside_parallel_for = previous_; }

 private:
  const bool previous_;
};

// One ParallelFor: ranges claimed by index until none is left.
struct Job {
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0, range = 0, ranges = 0;
  // The caller's: a range that allocates charges the same context (and quota) wherever it runs.
  MemoryCounter* memory = nullptr;
  std::shared_ptr<DeviceQuota> quota;
  std::atomic<int64_t> next{0};
  std::atomic<int64_t> finished{0};
  std::mutex mu;
  std::condition_variable all_finished;
  std::exception_ptr error;  // the first range's exception (mu), rethrown to the caller

  // Runs ranges until none is left unclaimed. A range that throws is counted as finished (the
  // caller must not return while others still run on its stack) and its exception kept.
  void Work() {
    ScopedMemoryContext scope(memory);
    ScopedDeviceQuota quota_scope(quota);
    InsideParallelFor inside;
    for (int64_t i; (i = next.fetch_add(1)) < ranges;) {
      try {
        (*fn)(i * range, std::min(n, (i + 1) * range));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!error) error = std::current_exception();
      }
      if (finished.fetch_add(1) + 1 == ranges) {
        std::lock_guard<std::mutex> lock(mu);
        all_finished.notify_all();
      }
    }
  }
};

// Workers wait for jobs and help with the oldest one that has unclaimed ranges. Never destroyed:
// a static's destructor would race with runs still finishing during exit.
class Pool {
 public:
  explicit Pool(int workers) {
    for (int i = 0; i < workers; ++i) std::thread([this] { Loop(); }).detach();
  }

  void Submit(const std::shared_ptr<Job>& job, int helpers) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
    }
    for (int i = 0; i < helpers; ++i) work_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_.wait(lock, [&] { return !jobs_.empty(); });
        job = jobs_.front();
        // A job whose ranges are all claimed leaves the queue; its claimers finish it.
        if (job->next.load() >= job->ranges) {
          jobs_.pop_front();
          continue;
        }
      }
      job->Work();
    }
  }

  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::shared_ptr<Job>> jobs_;
};

Pool& Workers() {
  static Pool* const pool = new Pool(IntraOpThreads() - 1);
  return *pool;
}

}  // namespace

void SetIntraOpThreads(int threads) { configured_threads.store(threads); }

int IntraOpThreads() {
  const int configured = configured_threads.load();
  if (configured > 0) return configured;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  grain = std::max<int64_t>(grain, 1);
  const int threads = IntraOpThreads();
  if (threads <= 1 || inside_parallel_for || n < 2 * grain) {
    if (n > 0) fn(0, n);
    return;
  }
  // About two ranges per thread evens out uneven progress; whole grains each.
  const int64_t grains = (n + grain - 1) / grain;
  const int64_t per_range = (grains + 2 * threads - 1) / (2 * threads);
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  job->range = per_range * grain;
  job->ranges = (n + job->range - 1) / job->range;
  job->memory = CurrentMemoryCounter();
  job->quota = CurrentDeviceQuota();
  Workers().Submit(job, static_cast<int>(std::min<int64_t>(threads - 1, job->ranges - 1)));
  job->Work();
  std::unique_lock<std::mutex> lock(job->mu);
  job->all_finished.wait(lock, [&] { return job->finished.load() == job->ranges; });
  if (job->error) std::rethrow_exception(job->error);
}

bool InParallelFor() { return inside_parallel_for; }

}  // namespace tensord::runtime
