// Compiled executables by canonical key, shared by every session. Concurrent compiles of one
// key build once: later callers wait for the first. Least recently used entries that no
// function holds are evicted while the cache holds more than `max_entries` executables or more
// than `max_bytes` (Executable::ApproximateBytes); entries still bound to a function stay, so
// both limits can be exceeded while functions hold them.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/compile/executable.h"

namespace tensord::compile {

class ExecutableCache {
 public:
  using Builder = std::function<absl::StatusOr<std::shared_ptr<Executable>>()>;

  explicit ExecutableCache(size_t max_entries, size_t max_bytes = SIZE_MAX)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // Returns the cached executable for `key`, or builds it with `build`. *hit says which. A
  // caller waiting for another's build of the same key stops at its own deadline or
  // cancellation (runtime/interrupt.h), and builds the key itself when that other build was
  // the one interrupted.
  absl::StatusOr<std::shared_ptr<Executable>> GetOrBuild(const std::string& key,
                                                         const Builder& build, bool* hit);

  // Called with each key the cache evicts, after it let go of its lock (server/persistence.h
  // drops the key's saved spec). Set before the cache is used.
  void set_on_evict(std::function<void(const std::string& key)> on_evict) {
    on_evict_ = std::move(on_evict);
  }

  size_t size() const;
  // Whether `key` is cached or being built now.
  bool contains(const std::string& key) const;
  // Approximate bytes of the cached executables (built ones; in-flight builds count 0).
  size_t bytes() const;
  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }
  int64_t evictions() const { return evictions_; }

 private:
  using Result = absl::StatusOr<std::shared_ptr<Executable>>;
  struct Entry {
    std::shared_future<Result> future;
    std::list<std::string>::iterator lru;
    size_t bytes = 0;
  };
  Result Build(const std::string& key, const Builder& build, std::promise<Result>& promise);
  // Returns the keys evicted.
  std::vector<std::string> EvictLocked();

  size_t max_entries_;
  size_t max_bytes_;
  size_t bytes_ = 0;  // sum of entries' bytes, under mu_
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // front = most recently used
  std::atomic<int64_t> hits_{0};
  std::atomic<int64_t> misses_{0};
  std::atomic<int64_t> evictions_{0};
  std::function<void(const std::string& key)> on_evict_;
};

}  // namespace tensord::compile
