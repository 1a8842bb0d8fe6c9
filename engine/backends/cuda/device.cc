#include "engine/backends/cuda/device.h"

#include <cuda_runtime_api.h>

#include <cstdio>

namespace tensord::cuda {

bool Available() { return true; }

int DeviceCount() {
  int count = 0;
  // No driver or no device is an error here; both simply mean "no GPU".
  if (cudaGetDeviceCount(&count) != cudaSuccess) return 0;
  return count;
}

// "NVIDIA H100 80GB HBM3 (sm_90, 79.1 GiB)": name, compute capability and total memory, as
// GetServerInfo and `tensordctl info` list a context's device.
std::string DeviceName(int ordinal) {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) return "unknown CUDA device";
  char memory[32];
  std::snprintf(memory, sizeof(memory), "%.1f GiB",
                static_cast<double>(prop.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return std::string(prop.name) + " (sm_" + std::to_string(prop.major) +
         std::to_string(prop.minor) + ", " + memory + ")";
}

namespace {

class CudaMemory final : public DeviceMemory {
 public:
  CudaMemory(int ordinal, size_t total) : ordinal_(ordinal), total_(total) {}
  void* Malloc(size_t bytes) override {
    void* p = nullptr;
    if (cudaSetDevice(ordinal_) != cudaSuccess || cudaMalloc(&p, bytes) != cudaSuccess) {
      cudaGetLastError();  // out of memory is not sticky: clear it for the next call
      return nullptr;
    }
    return p;
  }
  void Free(void* p) override {
    cudaSetDevice(ordinal_);
    cudaFree(p);
  }
  size_t Total() const override { return total_; }

 private:
  int ordinal_;
  size_t total_;
};

}  // namespace

std::unique_ptr<DeviceMemory> DeviceMemoryOf(int ordinal) {
  cudaDeviceProp prop;
  if (ordinal < 0 || ordinal >= DeviceCount() ||
      cudaGetDeviceProperties(&prop, ordinal) != cudaSuccess) {
    return nullptr;
  }
  return std::make_unique<CudaMemory>(ordinal, prop.totalGlobalMem);
}

}  // namespace tensord::cuda
