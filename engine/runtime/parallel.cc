#include "engine/runtime/parallel.h"

#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <chrono>
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

// How long a thread with nothing to do polls before it sleeps. A step's parallel nodes come
// tens of microseconds apart, and on a virtual machine a sleeping thread takes tens to hundreds
// of microseconds to wake (more after the host has seen the core idle: docs/performance.md,
// "The MLP training step"); polling through the gaps keeps the workers awake for a whole run.
// Bounded, so an idle server sleeps.
constexpr auto kPollBeforeSleeping = std::chrono::microseconds(200);

// Returns when `done` is true or kPollBeforeSleeping has passed, whichever is first.
template <class Done>
void PollFor(const Done& done) {
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    for (int i = 0; i < 64; ++i) {
      if (done()) return;
      _mm_pause();
    }
    const auto polled = std::chrono::steady_clock::now() - start;
    if (polled >= kPollBeforeSleeping) return;
    // Past the first microseconds, let any other thread that is ready run on this core (the
    // client's, gRPC's) between polls.
    if (polled >= std::chrono::microseconds(20)) std::this_thread::yield();
  }
}

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
    int sleeping;
    {
      std::lock_guard<std::mutex> lock(mu_);
      jobs_.push_back(job);
      queued_.store(static_cast<int>(jobs_.size()), std::memory_order_release);
      sleeping = sleeping_;
    }
    // Polling workers see the job themselves; a sleeping one must be woken (a worker counts
    // itself sleeping under mu_ before it waits, so none is missed).
    for (int i = 0; i < std::min(helpers, sleeping); ++i) work_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      PollFor([&] { return queued_.load(std::memory_order_acquire) > 0; });
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (jobs_.empty()) {
          ++sleeping_;
          work_.wait(lock, [&] { return !jobs_.empty(); });
          --sleeping_;
        }
        job = jobs_.front();
        // A job whose ranges are all claimed leaves the queue; its claimers finish it.
        if (job->next.load() >= job->ranges) {
          jobs_.pop_front();
          queued_.store(static_cast<int>(jobs_.size()), std::memory_order_release);
          continue;
        }
      }
      job->Work();
    }
  }

  std::mutex mu_;
  std::condition_variable work_;
  std::deque<std::shared_ptr<Job>> jobs_;
  int sleeping_ = 0;            // workers waiting on work_ (mu_)
  std::atomic<int> queued_{0};  // jobs_.size(), for polling without mu_
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
  // Read once: glibc's hardware_concurrency opens, reads and closes
  // /sys/devices/system/cpu/online on every call, which cost every kernel that asked (each
  // ParallelFor) 5-10 us here: more than a small node's own work.
  static const int hardware = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  return hardware;
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
  // The others' last ranges usually end within microseconds of the caller's.
  PollFor([&] { return job->finished.load() == job->ranges; });
  std::unique_lock<std::mutex> lock(job->mu);
  job->all_finished.wait(lock, [&] { return job->finished.load() == job->ranges; });
  if (job->error) std::rethrow_exception(job->error);
}

bool InParallelFor() { return inside_parallel_for; }

}  // namespace tensord::runtime
