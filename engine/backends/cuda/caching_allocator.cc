#include "engine/backends/cuda/caching_allocator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/common/status.h"

namespace tensord::cuda {
namespace {

constexpr size_t kSmallGranule = 512;
constexpr size_t kLargeGranule = size_t{2} << 20;
constexpr size_t kLargeFrom = size_t{1} << 20;
// Larger requests are refused before rounding could wrap around.
constexpr size_t kLargest = std::numeric_limits<size_t>::max() / 4;
// Theano's cap on a fraction to preallocate: the rest is for the driver and other processes.
constexpr double kMaxFraction = 0.95;

size_t RoundUp(size_t n, size_t granule) { return (n + granule - 1) / granule * granule; }

}  // namespace

size_t CachingAllocator::RoundSize(size_t bytes) {
  if (bytes == 0) return kSmallGranule;
  return bytes <= kLargeFrom ? RoundUp(bytes, kSmallGranule) : RoundUp(bytes, kLargeGranule);
}

absl::Status DeviceMemory::CopyToHost(void* host, const void* device, size_t bytes) {
  std::memcpy(host, device, bytes);
  return absl::OkStatus();
}

absl::Status DeviceMemory::CopyFromHost(void* device, const void* host, size_t bytes) {
  std::memcpy(device, host, bytes);
  return absl::OkStatus();
}

SimulatedDeviceMemory::~SimulatedDeviceMemory() {
  for (auto& [p, bytes] : sizes_) std::free(p);
}

absl::StatusOr<void*> SimulatedDeviceMemory::Malloc(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (bytes > capacity_ - used_) {
    return ResourceExhausted("the simulated device has ", capacity_ - used_, " of its ", capacity_,
                             " bytes free, ", bytes, " asked");
  }
  // cudaMalloc's alignment; large blocks are mapped by the C library, so a preallocated region
  // takes host memory only as its pages are written.
  void* p = std::aligned_alloc(256, RoundUp(std::max<size_t>(bytes, 1), 256));
  if (p == nullptr) return ResourceExhausted("the host has no room for ", bytes, " bytes");
  sizes_[p] = bytes;
  used_ += bytes;
  return p;
}

void SimulatedDeviceMemory::Free(void* p) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sizes_.find(p);
  if (it == sizes_.end()) return;  // not this device's: the allocator never frees those
  used_ -= it->second;
  sizes_.erase(it);
  std::free(p);
}

size_t SimulatedDeviceMemory::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

size_t SimulatedDeviceMemory::blocks() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sizes_.size();
}

CachingAllocator::CachingAllocator(DeviceMemory& memory, std::string context)
    : memory_(memory), context_(std::move(context)) {}

CachingAllocator::~CachingAllocator() {
  std::lock_guard<std::mutex> lock(mu_);
  EmptyCacheLocked();
  for (auto& [p, live] : live_)
    if (!live.in_region) memory_.Free(p);  // blocks never freed: the context is going away
  if (region_ != nullptr) memory_.Free(region_);
}

absl::StatusOr<std::string> CachingAllocator::Preallocate(double value) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!(value > 0) || !std::isfinite(value)) {
    return InvalidArgument(
        "preallocate must be a fraction of the device's memory (0, 1] or a size in MiB (> 1), "
        "got ",
        value);
  }
  if (region_ != nullptr || stats_.allocations > 0) {
    return InvalidArgument("preallocate: ", context_, " has already allocated");
  }
  const double total = static_cast<double>(memory_.Total());
  const double wanted = value <= 1 ? std::min(value, kMaxFraction) * total : value * (1 << 20);
  if (wanted >= static_cast<double>(kLargest)) {
    return ResourceExhausted("cannot preallocate ", value, " MiB on ", context_);
  }
  const size_t bytes = static_cast<size_t>(wanted) / kSmallGranule * kSmallGranule;
  if (bytes == 0) return InvalidArgument("preallocate: ", value, " is less than one block");
  absl::StatusOr<void*> p = memory_.Malloc(bytes);
  if (!p.ok()) {
    if (!absl::IsResourceExhausted(p.status())) return p.status();
    return ResourceExhausted("cannot preallocate ", bytes >> 20, " MiB of the ",
                             static_cast<int64_t>(total) >> 20, " MiB of ", context_);
  }
  region_ = static_cast<char*>(*p);
  region_size_ = bytes;
  free_by_offset_[0] = bytes;
  free_by_size_.emplace(bytes, 0);
  stats_.reserved_bytes = static_cast<int64_t>(bytes);
  stats_.device_allocations += 1;
  // Theano's words and format, so that logs read as users know them.
  return absl::StrFormat("Preallocating %d/%d Mb (%f) on %s", static_cast<int64_t>(bytes >> 20),
                         static_cast<int64_t>(total) >> 20, static_cast<double>(bytes) / total,
                         context_);
}

void* CachingAllocator::FromRegion(size_t size) {
  auto it = free_by_size_.lower_bound(size);  // the smallest free range that fits
  if (it == free_by_size_.end()) return nullptr;
  const size_t range = it->first, offset = it->second;
  free_by_size_.erase(it);
  free_by_offset_.erase(offset);
  if (range > size) {  // the rest stays free
    free_by_offset_[offset + size] = range - size;
    free_by_size_.emplace(range - size, offset + size);
  }
  return region_ + offset;
}

void CachingAllocator::ReturnToRegion(char* p, size_t size) {
  size_t offset = static_cast<size_t>(p - region_);
  auto erase = [&](std::map<size_t, size_t>::iterator at) {
    auto [lo, hi] = free_by_size_.equal_range(at->second);
    for (auto s = lo; s != hi; ++s) {
      if (s->second == at->first) {
        free_by_size_.erase(s);
        break;
      }
    }
    return free_by_offset_.erase(at);
  };
  auto next = free_by_offset_.lower_bound(offset);
  if (next != free_by_offset_.end() && next->first == offset + size) {  // merge the next
    size += next->second;
    next = erase(next);
  }
  if (next != free_by_offset_.begin()) {  // merge the previous
    auto prev = std::prev(next);
    if (prev->first + prev->second == offset) {
      offset = prev->first;
      size += prev->second;
      erase(prev);
    }
  }
  free_by_offset_[offset] = size;
  free_by_size_.emplace(size, offset);
}

absl::StatusOr<void*> CachingAllocator::Allocate(size_t bytes) {
  if (bytes > kLargest) {
    return ResourceExhausted("out of memory on ", context_, ": ", bytes, " bytes asked");
  }
  const size_t size = RoundSize(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  bool in_region = false;
  void* p = nullptr;
  if (region_ != nullptr) {
    p = FromRegion(size);
    in_region = p != nullptr;
  }
  if (p == nullptr) {  // a cached block of this size class or up to twice it
    auto it = cached_.lower_bound(size);
    if (it != cached_.end() && it->first <= 2 * size) {
      p = it->second;
      stats_.cached_bytes -= static_cast<int64_t>(it->first);
      live_[p] = {it->first, false};
      cached_.erase(it);
      stats_.in_use_bytes += static_cast<int64_t>(live_[p].size);
    }
  }
  if (p == nullptr) {
    absl::StatusOr<void*> fresh = memory_.Malloc(size);
    if (absl::IsResourceExhausted(fresh.status()) && !cached_.empty()) {
      EmptyCacheLocked();  // give the cache back and try again
      fresh = memory_.Malloc(size);
    }
    if (absl::IsResourceExhausted(fresh.status())) {
      return ResourceExhausted(
          "out of memory on ", context_, ": ", bytes, " bytes asked, ", stats_.in_use_bytes,
          " in use",
          region_ != nullptr ? absl::StrCat(" (a preallocated region of ", region_size_, " bytes)")
                             : "");
    }
    if (!fresh.ok()) return fresh.status();  // the device's own error
    p = *fresh;
    stats_.device_allocations += 1;
    live_[p] = {size, false};
    stats_.in_use_bytes += static_cast<int64_t>(size);
  } else if (in_region) {
    live_[p] = {size, true};
    stats_.in_use_bytes += static_cast<int64_t>(size);
  }
  stats_.allocations += 1;
  stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.in_use_bytes);
  return p;
}

void CachingAllocator::Free(void* p) {
  if (p == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = live_.find(p);
  if (it == live_.end()) {
    std::fprintf(stderr, "tensord: %s: freeing a block it did not allocate\n", context_.c_str());
    return;  // a bug elsewhere; never free someone else's memory
  }
  const Live live = it->second;
  live_.erase(it);
  stats_.in_use_bytes -= static_cast<int64_t>(live.size);
  if (live.in_region) {
    ReturnToRegion(static_cast<char*>(p), live.size);
  } else if (!caching_) {
    memory_.Free(p);
  } else {
    cached_.emplace(live.size, p);
    stats_.cached_bytes += static_cast<int64_t>(live.size);
  }
}

void CachingAllocator::EmptyCache() {
  std::lock_guard<std::mutex> lock(mu_);
  EmptyCacheLocked();
}

void CachingAllocator::SetCaching(bool caching) {
  std::lock_guard<std::mutex> lock(mu_);
  caching_ = caching;
  if (!caching_) EmptyCacheLocked();
}

void CachingAllocator::EmptyCacheLocked() {
  for (auto& [size, p] : cached_) memory_.Free(p);
  cached_.clear();
  stats_.cached_bytes = 0;
}

CachingAllocator::Stats CachingAllocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace tensord::cuda
