// A device context's memory (issue 16): the caching allocator (engine/backends/cuda/
// caching_allocator.h) over the device, handing out the context's buffers (a
// runtime::BlockSource). A simulated device (simN) has host memory of a fixed size behind it,
// so caching, preallocation and running out of device memory behave, and are tested, as they
// will on a GPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/caching_allocator.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::context {

struct DeviceMemoryOptions {
  // Theano's gpuarray.preallocate (--preallocate): 0 caches freed blocks without preallocating;
  // (0, 1] preallocates that fraction of the device's memory (at most 0.95), more than 1 that
  // many MiB; negative turns caching off (a freed block goes back to the device at once).
  double preallocate = 0;
  // The memory of each simulated device (--sim_device_memory_mb), and whether the server
  // reaches it only through copies, as a GPU's (--sim_device_memory_separate).
  int64_t simulated_device_bytes = int64_t{16} << 30;
  bool simulated_memory_separate = false;
};

class DeviceBlocks final : public runtime::BlockSource {
 public:
  // `device`'s memory ("sim0"), set up as `options` says. `log` gets the line the server logs
  // for a preallocation (Theano's), and stays empty without one. Preallocate's errors.
  static absl::StatusOr<std::shared_ptr<DeviceBlocks>> Create(
      std::unique_ptr<cuda::DeviceMemory> memory, const std::string& device,
      const DeviceMemoryOptions& options, std::string* log);

  // Throws runtime::OutOfDeviceMemory with the allocator's message when the device is full, a
  // std::runtime_error for any other device error.
  Block Allocate(size_t bytes) override;
  void Free(void* data) override;
  bool host_accessible() const override { return memory_->host_accessible(); }
  void CopyToHost(void* host, const void* device, size_t bytes) override;
  void CopyFromHost(void* device, const void* host, size_t bytes) override;

  cuda::CachingAllocator::Stats stats() const { return allocator_.stats(); }
  int64_t total_bytes() const { return static_cast<int64_t>(memory_->Total()); }

 private:
  DeviceBlocks(std::unique_ptr<cuda::DeviceMemory> memory, const std::string& device)
      : memory_(std::move(memory)), allocator_(*memory_, device) {}

  const std::unique_ptr<cuda::DeviceMemory> memory_;
  cuda::CachingAllocator allocator_;  // after memory_: gives its blocks back before it goes
};

}  // namespace tensord::context
