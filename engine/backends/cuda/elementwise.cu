#include <cuda_runtime.h>

#include "engine/backends/cuda/elementwise.h"

namespace tensord::cuda {
namespace {

__global__ void AddKernel(const float* a, const float* b, float* c, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t{blockDim.x} + threadIdx.x; i < n;
       i += int64_t{gridDim.x} * blockDim.x) {
    c[i] = a[i] + b[i];
  }
}

}  // namespace

std::string AddFloat32(const float* a, const float* b, float* c, int64_t n) {
  if (n == 0) return "";
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((n + threads - 1) / threads, 65535);
  AddKernel<<<static_cast<unsigned>(blocks), threads>>>(a, b, c, n);
  cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? "" : cudaGetErrorString(err);
}

}  // namespace tensord::cuda
