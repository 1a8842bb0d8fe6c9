// Bytes of tensor buffers per device context: in use now and the most ever in use. Every
// Buffer charges the counter current on its thread when it is allocated and credits the same
// counter when it is freed, so a value created by a run on dev0 stays dev0's wherever it goes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <new>
#include <string>

namespace tensord::runtime {

// Which way a transfer node moved bytes, as counted on one context: into it from the host,
// out of it to the host, or into it from another device.
enum class TransferDirection { kHostToDevice = 0, kDeviceToHost = 1, kDeviceToDevice = 2 };
inline constexpr int kTransferDirections = 3;
const char* TransferDirectionName(TransferDirection d);  // "host_to_device", ...

// An allocation that would take a context past its memory limit. A std::bad_alloc, so whatever
// handles running out of host memory handles it; what() names the context, the bytes asked and
// those free (the server answers RESOURCE_EXHAUSTED with it).
class OutOfDeviceMemory : public std::bad_alloc {
 public:
  explicit OutOfDeviceMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Where a device context's buffers come from instead of the host allocator: the device's caching
// allocator (engine/context/device_memory.h).
class BlockSource {
 public:
  struct Block {
    void* data = nullptr;
    size_t capacity = 0;  // the bytes the block holds, at least those asked
  };
  virtual ~BlockSource() = default;
  // At least `bytes`, 64-byte aligned. Throws OutOfDeviceMemory when the device has no room.
  virtual Block Allocate(size_t bytes) = 0;
  virtual void Free(void* data) = 0;
  // False for memory only the device reaches (a GPU's): the host reads and writes its blocks
  // through the copies, which throw std::runtime_error when the device fails.
  virtual bool host_accessible() const = 0;
  virtual void CopyToHost(void* host, const void* device, size_t bytes) = 0;
  virtual void CopyFromHost(void* device, const void* host, size_t bytes) = 0;
};

// Allocations on many threads only touch a few atomics (a device context's also copies its
// block source's shared_ptr, which libstdc++ guards with a spin lock).
class MemoryCounter {
 public:
  explicit MemoryCounter(std::string name) : name_(std::move(name)) {}
  // Throws OutOfDeviceMemory, charging nothing, when a limit is set and `bytes` more would
  // pass it.
  void Allocated(int64_t bytes);
  void Freed(int64_t bytes) { in_use_.fetch_sub(bytes, std::memory_order_relaxed); }
  int64_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  int64_t peak() const { return peak_.load(std::memory_order_relaxed); }
  // The most bytes the context may hold at once (0: no limit; --device_memory_limit).
  void SetLimit(int64_t bytes) { limit_.store(bytes, std::memory_order_relaxed); }
  // A device context's (not host memory): what a DeviceQuota counts.
  void SetDevice(bool device) { device_.store(device, std::memory_order_relaxed); }
  bool is_device() const { return device_.load(std::memory_order_relaxed); }
  int64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  // A device context's allocator (null: buffers come from the host allocator). Set when the
  // context is registered; each buffer keeps the one it came from.
  void SetBlockSource(std::shared_ptr<BlockSource> source) {
    block_source_.store(std::move(source));
  }
  std::shared_ptr<BlockSource> block_source() const { return block_source_.load(); }

  void Transferred(TransferDirection d, int64_t bytes) {
    transferred_[static_cast<int>(d)].fetch_add(bytes, std::memory_order_relaxed);
  }
  int64_t transferred(TransferDirection d) const {
    return transferred_[static_cast<int>(d)].load(std::memory_order_relaxed);
  }

 private:
  const std::string name_;
  std::atomic<int64_t> in_use_{0};
  std::atomic<int64_t> peak_{0};
  std::atomic<int64_t> limit_{0};
  std::atomic<bool> device_{false};
  std::atomic<std::shared_ptr<BlockSource>> block_source_;
  std::atomic<int64_t> transferred_[kTransferDirections] = {};
};

// A tenant's device memory against its quota (--tenant_memory_quota): the device buffers its
// runs allocated and still hold, plus `resident()` (its shared values and device arrays, which
// their stores charge; a buffer that becomes one gives its quota charge back), stay within
// `limit`. Buffers keep it alive and credit it when freed, however long they outlive the run.
class DeviceQuota {
 public:
  DeviceQuota(int64_t limit, std::function<int64_t()> resident, std::string holder)
      : limit_(limit), resident_(std::move(resident)), holder_(std::move(holder)) {}
  // Throws OutOfDeviceMemory, charging nothing, when `bytes` more would pass the limit.
  void Allocated(int64_t bytes);
  void Freed(int64_t bytes) { held_.fetch_sub(bytes, std::memory_order_relaxed); }

 private:
  const int64_t limit_;
  const std::function<int64_t()> resident_;
  const std::string holder_;
  std::atomic<int64_t> held_{0};
};

// The DeviceQuota device buffers allocated on this thread are charged to (null: none).
const std::shared_ptr<DeviceQuota>& CurrentDeviceQuota();

// Charges the device buffers this thread allocates while it lives to `quota` as well.
class ScopedDeviceQuota {
 public:
  explicit ScopedDeviceQuota(std::shared_ptr<DeviceQuota> quota);
  ~ScopedDeviceQuota();
  ScopedDeviceQuota(const ScopedDeviceQuota&) = delete;
  ScopedDeviceQuota& operator=(const ScopedDeviceQuota&) = delete;

 private:
  std::shared_ptr<DeviceQuota> previous_;
};

// The counter of a context name, created on first use and never destroyed (a buffer may be
// freed after the registry that named its context is gone).
MemoryCounter* MemoryCounterFor(const std::string& context_name);

// What new buffers on this thread are charged to: the innermost ScopedMemoryContext's counter,
// else the host's ("cpu"): request decoding and other memory no context owns.
MemoryCounter* CurrentMemoryCounter();

// Charges the buffers this thread allocates while it lives to `counter` (null: no change).
class ScopedMemoryContext {
 public:
  explicit ScopedMemoryContext(MemoryCounter* counter);
  ~ScopedMemoryContext();
  ScopedMemoryContext(const ScopedMemoryContext&) = delete;
  ScopedMemoryContext& operator=(const ScopedMemoryContext&) = delete;

 private:
  MemoryCounter* previous_;
};

}  // namespace tensord::runtime
