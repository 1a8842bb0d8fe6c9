#include "engine/runtime/memory_stats.h"

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"

namespace tensord::runtime {
namespace {

thread_local MemoryCounter* current_counter = nullptr;
thread_local std::shared_ptr<DeviceQuota> current_quota;

}  // namespace

void MemoryCounter::Allocated(int64_t bytes) {
  const int64_t now = in_use_.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  const int64_t limit = this->limit();
  if (limit > 0 && now > limit) {
    in_use_.fetch_sub(bytes, std::memory_order_relaxed);
    throw OutOfDeviceMemory(absl::StrCat(
        "context '", name_, "' is out of memory: ", bytes, " bytes asked, ",
        std::max<int64_t>(0, limit - now + bytes), " of ", limit, " free (--device_memory_limit)"));
  }
  int64_t peak = peak_.load(std::memory_order_relaxed);
  while (now > peak && !peak_.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

void DeviceQuota::Allocated(int64_t bytes) {
  const int64_t resident = resident_ ? resident_() : 0;
  // Reserved only when it fits: two allocations racing never refuse each other for bytes
  // neither got.
  int64_t held = held_.load(std::memory_order_relaxed);
  do {
    if (limit_ > 0 && held + bytes + resident > limit_) {
      throw OutOfDeviceMemory(absl::StrCat(
          holder_, " would hold ", held + bytes + resident, " bytes of device memory (", resident,
          " resident, the rest its runs'); the limit is ", limit_, " (--tenant_memory_quota)"));
    }
  } while (!held_.compare_exchange_weak(held, held + bytes, std::memory_order_relaxed));
}

const std::shared_ptr<DeviceQuota>& CurrentDeviceQuota() { return current_quota; }

ScopedDeviceQuota::ScopedDeviceQuota(std::shared_ptr<DeviceQuota> quota)
    : previous_(std::move(current_quota)) {
  current_quota = std::move(quota);
}

ScopedDeviceQuota::~ScopedDeviceQuota() { current_quota = std::move(previous_); }

MemoryCounter* MemoryCounterFor(const std::string& context_name) {
  // Leaked on purpose: buffers held by static objects may be freed during exit.
  static auto* mu = new std::mutex;
  static auto* counters = new std::map<std::string, std::unique_ptr<MemoryCounter>>;
  std::lock_guard<std::mutex> lock(*mu);
  auto& counter = (*counters)[context_name];
  if (counter == nullptr) counter = std::make_unique<MemoryCounter>(context_name);
  return counter.get();
}

const char* TransferDirectionName(TransferDirection d) {
  switch (d) {
    case TransferDirection::kHostToDevice:
      return "host_to_device";
    case TransferDirection::kDeviceToHost:
      return "device_to_host";
    case TransferDirection::kDeviceToDevice:
      return "device_to_device";
  }
  return "?";
}

MemoryCounter* CurrentMemoryCounter() {
  if (current_counter != nullptr) return current_counter;
  static MemoryCounter* const host = MemoryCounterFor("cpu");
  return host;
}

ScopedMemoryContext::ScopedMemoryContext(MemoryCounter* counter) : previous_(current_counter) {
  if (counter != nullptr) current_counter = counter;
}

ScopedMemoryContext::~ScopedMemoryContext() { current_counter = previous_; }

}  // namespace tensord::runtime
