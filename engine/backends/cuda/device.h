// CUDA device discovery. Without CUDA support compiled in, no device is ever seen.
#pragma once

#include <memory>
#include <string>

#include "engine/backends/cuda/caching_allocator.h"

namespace tensord::cuda {

bool Available();   // built with CUDA
int DeviceCount();  // 0 when not built with CUDA or no driver/device
std::string DeviceName(int ordinal);
// Device `ordinal`'s memory for a CachingAllocator (cudaMalloc / cudaFree on that device);
// null when there is no such device.
std::unique_ptr<DeviceMemory> DeviceMemoryOf(int ordinal);

}  // namespace tensord::cuda
