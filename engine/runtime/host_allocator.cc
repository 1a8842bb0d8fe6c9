#include "engine/runtime/host_allocator.h"

#include <cstdlib>
#include <new>

namespace tensord::runtime {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kPage = 4096;

}  // namespace

HostAllocator& HostAllocator::Global() {
  static auto* allocator = new HostAllocator(kDefaultCacheBytes);  // outlives every Buffer
  return *allocator;
}

HostAllocator::HostAllocator(int64_t cache_limit_bytes) : limit_(cache_limit_bytes) {}

HostAllocator::~HostAllocator() {
  for (const auto& [key, data] : by_capacity_) std::free(data);
}

HostAllocator::Block HostAllocator::Take(std::map<Key, void*>::iterator it) {
  const Block block{it->second, it->first.first};
  by_age_.erase(it->first.second);
  by_capacity_.erase(it);
  stats_.cached_bytes -= static_cast<int64_t>(block.capacity);
  return block;
}

HostAllocator::Block HostAllocator::Allocate(size_t bytes) {
  const size_t capacity =
      bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // The smallest cached block that fits, unless it would waste more than a quarter: a loop
    // asks for the sizes it freed, and a much larger block is better kept for a larger tensor.
    auto it = by_capacity_.lower_bound({capacity, 0});
    if (it != by_capacity_.end() && it->first.first <= capacity + capacity / 4 + kPage) {
      ++stats_.allocations;
      return Take(it);
    }
  }
  void* data = std::aligned_alloc(kAlignment, capacity);
  if (data == nullptr) {
    FreeCachedBeyond(0);  // what the cache holds may be what the system lacks
    data = std::aligned_alloc(kAlignment, capacity);
    if (data == nullptr) throw std::bad_alloc();
  }
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.allocations;
  ++stats_.system_allocations;
  return {data, capacity};
}

bool HostAllocator::TakeOldestBeyond(int64_t keep, Block* block) {
  std::lock_guard<std::mutex> lock(mu_);
  if (by_age_.empty() || stats_.cached_bytes <= keep) return false;
  const auto [sequence, capacity] = *by_age_.begin();
  *block = Take(by_capacity_.find({capacity, sequence}));
  return true;
}

void HostAllocator::FreeCachedBeyond(int64_t keep) noexcept {
  for (Block block; TakeOldestBeyond(keep, &block);) std::free(block.data);
}

void HostAllocator::Free(Block block) noexcept {
  if (block.data == nullptr) return;
  const auto bytes = static_cast<int64_t>(block.capacity);
  int64_t limit;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit = limit_;
    if (bytes <= limit) {
      const uint64_t sequence = next_sequence_++;
      try {
        auto [it, added] = by_capacity_.emplace(Key{block.capacity, sequence}, block.data);
        try {
          by_age_.emplace(sequence, block.capacity);
        } catch (...) {
          by_capacity_.erase(it);
          throw;
        }
        stats_.cached_bytes += bytes;
        block.data = nullptr;  // the cache has it
      } catch (const std::bad_alloc&) {
        // No memory for the cache's own records: the block goes back to the system below.
      }
    }
  }
  std::free(block.data);
  FreeCachedBeyond(limit);  // this block may have taken the cache past its limit
}

void HostAllocator::SetCacheLimit(int64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
  }
  FreeCachedBeyond(bytes);
}

int64_t HostAllocator::cache_limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_;
}

HostAllocator::Stats HostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  Stats stats = stats_;
  stats.cached_blocks = static_cast<int64_t>(by_capacity_.size());
  return stats;
}

}  // namespace tensord::runtime
