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

// Makes `ordinal` the calling thread's device for its lifetime, then puts the previous one back
// (a thread serves every context; a kernel launches on the current device).
class OnDevice {
 public:
  explicit OnDevice(int ordinal) {
    if (cudaGetDevice(&previous_) == cudaSuccess && previous_ != ordinal) {
      ok_ = cudaSetDevice(ordinal) == cudaSuccess;
    } else {
      previous_ = -1;
    }
  }
  ~OnDevice() {
    if (previous_ >= 0) cudaSetDevice(previous_);
  }
  bool ok() const { return ok_; }

 private:
  int previous_ = -1;
  bool ok_ = true;
};

class CudaMemory final : public DeviceMemory {
 public:
  CudaMemory(int ordinal, size_t total) : ordinal_(ordinal), total_(total) {}
  absl::StatusOr<void*> Malloc(size_t bytes) override {
    OnDevice on(ordinal_);
    if (!on.ok()) {
      cudaGetLastError();
      return absl::InternalError("cannot select CUDA device " + std::to_string(ordinal_));
    }
    void* p = nullptr;
    const cudaError_t error = cudaMalloc(&p, bytes);
    if (error == cudaSuccess) return p;
    cudaGetLastError();  // this call's error, not left for the next launch to report
    if (error == cudaErrorMemoryAllocation) {
      return absl::ResourceExhaustedError("cudaMalloc: out of memory");
    }
    return absl::InternalError(std::string("cudaMalloc: ") + cudaGetErrorString(error));
  }
  void Free(void* p) override {
    OnDevice on(ordinal_);
    const cudaError_t error = cudaFree(p);
    if (error != cudaSuccess) {
      cudaGetLastError();
      std::fprintf(stderr, "tensord: cudaFree on device %d: %s\n", ordinal_,
                   cudaGetErrorString(error));
    }
  }
  size_t Total() const override { return total_; }
  bool host_accessible() const override { return false; }
  absl::Status CopyToHost(void* host, const void* device, size_t bytes) override {
    return Copy(host, device, bytes, cudaMemcpyDeviceToHost);
  }
  absl::Status CopyFromHost(void* device, const void* host, size_t bytes) override {
    return Copy(device, host, bytes, cudaMemcpyHostToDevice);
  }

 private:
  // Synchronous: the host reads or reuses its side as soon as this returns.
  absl::Status Copy(void* to, const void* from, size_t bytes, cudaMemcpyKind kind) {
    if (bytes == 0) return absl::OkStatus();
    OnDevice on(ordinal_);
    if (!on.ok()) {
      cudaGetLastError();
      return absl::InternalError("cannot select CUDA device " + std::to_string(ordinal_));
    }
    const cudaError_t error = cudaMemcpy(to, from, bytes, kind);
    if (error == cudaSuccess) return absl::OkStatus();
    cudaGetLastError();
    return absl::InternalError(std::string("cudaMemcpy on device ") + std::to_string(ordinal_) +
                               ": " + cudaGetErrorString(error));
  }

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
