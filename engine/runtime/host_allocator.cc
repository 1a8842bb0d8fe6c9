#include "engine/runtime/host_allocator.h"

#include <cstdlib>
#include <limits>
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
  --stats_.cached_blocks;
  return block;
}

HostAllocator::Block HostAllocator::Allocate(size_t bytes) {
  const size_t capacity =
      bytes == 0 ? kAlignment : (bytes + kAlignment - 1) / kAlignment * kAlignment;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.allocations;
    // The smallest cached block that fits, unless it would waste more than a quarter: a loop
    // asks for the sizes it freed, and a much larger block is better kept for a larger tensor.
    auto it = by_capacity_.lower_bound({capacity, 0});
    if (it != by_capacity_.end() && it->first.first <= capacity + capacity / 4 + kPage) {
      return Take(it);
    }
    ++stats_.system_allocations;
  }
  void* data = std::aligned_alloc(kAlignment, capacity);
  if (data == nullptr) {
    // What the cache holds may be what the system lacks: give it all back and try once more.
    std::vector<Block> freed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      EvictFor(std::numeric_limits<int64_t>::max() / 2, &freed);
    }
    for (const Block& b : freed) std::free(b.data);
    data = std::aligned_alloc(kAlignment, capacity);
    if (data == nullptr) throw std::bad_alloc();
  }
  return {data, capacity};
}

void HostAllocator::EvictFor(int64_t incoming, std::vector<Block>* freed) {
  while (!by_age_.empty() && stats_.cached_bytes + incoming > limit_) {
    const auto [sequence, capacity] = *by_age_.begin();
    freed->push_back(Take(by_capacity_.find({capacity, sequence})));
  }
}

void HostAllocator::Free(Block block) {
  if (block.data == nullptr) return;
  std::vector<Block> freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const auto bytes = static_cast<int64_t>(block.capacity);
    if (bytes > limit_) {
      freed.push_back(block);
    } else {
      EvictFor(bytes, &freed);
      const uint64_t sequence = next_sequence_++;
      by_capacity_.emplace(Key{block.capacity, sequence}, block.data);
      by_age_.emplace(sequence, block.capacity);
      stats_.cached_bytes += bytes;
      ++stats_.cached_blocks;
    }
  }
  for (const Block& b : freed) std::free(b.data);  // outside the lock: munmap can take a while
}

void HostAllocator::SetCacheLimit(int64_t bytes) {
  std::vector<Block> freed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    limit_ = bytes;
    EvictFor(0, &freed);
  }
  for (const Block& b : freed) std::free(b.data);
}

HostAllocator::Stats HostAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace tensord::runtime
