#include "engine/compile/executable_cache.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {

namespace {

// A build stopped by its caller's deadline or cancellation says nothing about the spec.
bool Interrupted(const absl::Status& s) {
  return s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kCancelled;
}

}  // namespace

absl::StatusOr<std::shared_ptr<Executable>> ExecutableCache::GetOrBuild(const std::string& key,
                                                                        const Builder& build,
                                                                        bool* hit) {
  for (;;) {
    std::promise<Result> promise;
    std::shared_future<Result> future;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = entries_.find(key);
      if (it != entries_.end()) {
        lru_.splice(lru_.begin(), lru_, it->second.lru);
        future = it->second.future;
      } else {
        lru_.push_front(key);
        entries_[key] = Entry{promise.get_future().share(), lru_.begin()};
      }
    }
    if (future.valid()) {
      // Waiting for another caller's build, on this caller's own deadline.
      while (future.wait_for(std::chrono::milliseconds(20)) != std::future_status::ready) {
        TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
      }
      const Result& result = future.get();
      // That caller gave up; its entry is gone (failures are not cached): build it ourselves.
      if (!result.ok() && Interrupted(result.status())) continue;
      ++hits_;
      *hit = true;
      return result;
    }
    ++misses_;
    *hit = false;
    return Build(key, build, promise);
  }
}

absl::StatusOr<std::shared_ptr<Executable>> ExecutableCache::Build(const std::string& key,
                                                                   const Builder& build,
                                                                   std::promise<Result>& promise) {
  Result result = absl::InternalError("compile did not complete");
  try {
    result = build();
  } catch (const std::bad_alloc&) {
    result = absl::ResourceExhaustedError("out of memory while compiling");
  } catch (const std::exception& e) {
    result = absl::InternalError(absl::StrCat("compile failed: ", e.what()));
  }
  std::vector<std::string> evicted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (result.ok() && it != entries_.end()) {
      it->second.bytes = (*result)->ApproximateBytes();
      bytes_ += it->second.bytes;
    }
    if (!result.ok() && it != entries_.end()) {
      // Failed compiles are not cached: the same spec may succeed later (e.g. a shared
      // variable created meanwhile). Erased before waiters wake, so one that retries builds.
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
    // Always fulfil the promise: callers waiting on this key must never hang.
    promise.set_value(result);
    evicted = EvictLocked();
  }
  if (on_evict_) {
    for (const std::string& k : evicted) on_evict_(k);
  }
  return result;
}

std::vector<std::string> ExecutableCache::EvictLocked() {
  std::vector<std::string> evicted;
  auto over = [&] { return entries_.size() > max_entries_ || bytes_ > max_bytes_; };
  for (auto it = lru_.end(); over() && it != lru_.begin();) {
    --it;
    Entry& e = entries_.at(*it);
    if (e.future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
    const Result& r = e.future.get();
    if (r.ok() && r->use_count() > 1) continue;  // still bound to a function
    bytes_ -= e.bytes;
    entries_.erase(*it);
    evicted.push_back(std::move(*it));
    it = lru_.erase(it);
    ++evictions_;
  }
  return evicted;
}

bool ExecutableCache::contains(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.count(key) != 0;
}

size_t ExecutableCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

size_t ExecutableCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace tensord::compile
