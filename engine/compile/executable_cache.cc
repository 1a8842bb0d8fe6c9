#include "engine/compile/executable_cache.h"

#include "absl/strings/str_cat.h"

namespace tensord::compile {

absl::StatusOr<std::shared_ptr<Executable>> ExecutableCache::GetOrBuild(const std::string& key,
                                                                        const Builder& build,
                                                                        bool* hit) {
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
    ++hits_;
    *hit = true;
    return future.get();
  }
  ++misses_;
  *hit = false;
  Result result = absl::InternalError("compile did not complete");
  try {
    result = build();
  } catch (const std::bad_alloc&) {
    result = absl::ResourceExhaustedError("out of memory while compiling");
  } catch (const std::exception& e) {
    result = absl::InternalError(absl::StrCat("compile failed: ", e.what()));
  }
  // Always fulfil the promise: callers waiting on this key must never hang.
  promise.set_value(result);
  std::lock_guard<std::mutex> lock(mu_);
  if (result.ok()) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      it->second.bytes = (*result)->ApproximateBytes();
      bytes_ += it->second.bytes;
    }
  }
  if (!result.ok()) {
    // Failed compiles are not cached: the same spec may succeed later (e.g. a shared
    // variable created meanwhile).
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.erase(it->second.lru);
      entries_.erase(it);
    }
  }
  EvictLocked();
  return result;
}

void ExecutableCache::EvictLocked() {
  auto over = [&] { return entries_.size() > max_entries_ || bytes_ > max_bytes_; };
  for (auto it = lru_.end(); over() && it != lru_.begin();) {
    --it;
    Entry& e = entries_.at(*it);
    if (e.future.wait_for(std::chrono::seconds(0)) != std::future_status::ready) continue;
    const Result& r = e.future.get();
    if (r.ok() && r->use_count() > 1) continue;  // still bound to a function
    bytes_ -= e.bytes;
    entries_.erase(*it);
    it = lru_.erase(it);
    ++evictions_;
  }
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
