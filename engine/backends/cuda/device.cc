#include "engine/backends/cuda/device.h"

#include <cuda_runtime_api.h>

namespace tensord::cuda {

bool Available() { return true; }

int DeviceCount() {
  int count = 0;
  // No driver or no device is an error here; both simply mean "no GPU".
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

std::string DeviceName(int ordinal) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) return "unknown CUDA device";
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ")";
}

}  // namespace tensord::cuda
