// Host memory for tensor buffers, with freed blocks kept for reuse. A loop of runs frees what it
// allocated the run before (inputs decoded, outputs sent, a variable's old value replaced by its
// update), so in steady state every allocation is a block the previous run gave back: no call
// into the system allocator, and no fresh pages to fault in (a new 64 MiB buffer is 16,384 page
// faults, about as long as computing into it). The counters show it; the cache is bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

namespace tensord::runtime {

// GCC says so with __SANITIZE_ADDRESS__, clang (the fuzz preset) with __has_feature.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
inline constexpr bool kUnderAddressSanitizer = __has_feature(address_sanitizer);
#else
inline constexpr bool kUnderAddressSanitizer = false;
#endif

class HostAllocator {
 public:
  struct Block {
    void* data = nullptr;
    size_t capacity = 0;  // bytes usable; at least what was asked for
  };
  struct Stats {
    int64_t allocations = 0;         // blocks handed out
    int64_t system_allocations = 0;  // of which new from the system (the rest reused)
    int64_t cached_bytes = 0;        // held for reuse now
    int64_t cached_blocks = 0;       // (counted when read)
  };

  // What the process's allocator caches unless told otherwise (--host_cache_bytes). Under
  // AddressSanitizer nothing: a reused block would hide a use after free.
  static constexpr int64_t kDefaultCacheBytes = kUnderAddressSanitizer ? 0 : int64_t{512} << 20;

  // The process's allocator (every Buffer's).
  static HostAllocator& Global();

  // The cache keeps at most `cache_limit_bytes` (0: it keeps nothing).
  explicit HostAllocator(int64_t cache_limit_bytes);
  ~HostAllocator();
  HostAllocator(const HostAllocator&) = delete;
  HostAllocator& operator=(const HostAllocator&) = delete;

  // 64-byte aligned memory for `bytes`: the smallest cached block of at least that size, if it
  // is at most a quarter (plus a page) larger, else a new block. Throws std::bad_alloc when the
  // system has none.
  Block Allocate(size_t bytes);
  // Takes a block back: cached while the cache stays within its limit (the least recently
  // cached blocks are freed to make room), else freed. Never throws (buffers' destructors call
  // it): a block the cache cannot record for want of memory is freed.
  void Free(Block block) noexcept;

  // Sets the limit, freeing cached blocks past it (--host_cache_bytes).
  void SetCacheLimit(int64_t bytes);
  int64_t cache_limit() const;
  Stats stats() const;

 private:
  // A cached block's keys: its capacity, then when it was cached (a sequence number), so that
  // of equal blocks the least recently cached is found first and evicted first.
  using Key = std::pair<size_t, uint64_t>;
  // Unlinks a cached block; the caller frees or hands it out.
  Block Take(std::map<Key, void*>::iterator it);
  // Unlinks the least recently cached block while the cache holds more than `keep` bytes.
  bool TakeOldestBeyond(int64_t keep, Block* block);
  // Frees the least recently cached blocks until the cache holds at most `keep` bytes, one at a
  // time outside the lock (freeing a large block unmaps it, which can take a while).
  void FreeCachedBeyond(int64_t keep) noexcept;

  mutable std::mutex mu_;
  int64_t limit_;
  uint64_t next_sequence_ = 0;
  std::map<Key, void*> by_capacity_;
  std::map<uint64_t, size_t> by_age_;  // sequence -> capacity
  Stats stats_;
};

}  // namespace tensord::runtime
