#include "engine/context/device_memory.h"

#include <stdexcept>
#include <utility>

#include "engine/common/status.h"

namespace tensord::context {

absl::StatusOr<std::shared_ptr<DeviceBlocks>> DeviceBlocks::Create(
    std::unique_ptr<cuda::DeviceMemory> memory, const std::string& device,
    const DeviceMemoryOptions& options, std::string* log) {
  std::shared_ptr<DeviceBlocks> blocks(new DeviceBlocks(std::move(memory), device));
  log->clear();
  if (options.preallocate < 0) {
    blocks->allocator_.SetCaching(false);
  } else if (options.preallocate > 0) {
    TENSORD_ASSIGN_OR_RETURN(*log, blocks->allocator_.Preallocate(options.preallocate));
  }
  return blocks;
}

runtime::BlockSource::Block DeviceBlocks::Allocate(size_t bytes) {
  absl::StatusOr<void*> p = allocator_.Allocate(bytes);
  if (absl::IsResourceExhausted(p.status())) {
    throw runtime::OutOfDeviceMemory(std::string(p.status().message()));
  }
  if (!p.ok()) throw std::runtime_error(p.status().ToString());  // the device failed: INTERNAL
  return {*p, cuda::CachingAllocator::RoundSize(bytes)};
}

void DeviceBlocks::Free(void* data) { allocator_.Free(data); }

void DeviceBlocks::CopyToHost(void* host, const void* device, size_t bytes) {
  if (absl::Status s = memory_->CopyToHost(host, device, bytes); !s.ok()) {
    throw std::runtime_error(s.ToString());
  }
}

void DeviceBlocks::CopyFromHost(void* device, const void* host, size_t bytes) {
  if (absl::Status s = memory_->CopyFromHost(device, host, bytes); !s.ok()) {
    throw std::runtime_error(s.ToString());
  }
}

}  // namespace tensord::context
