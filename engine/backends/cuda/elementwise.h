// First CUDA kernels: float32 elementwise add on device buffers. The CUDA context lands
// with the GPU backend issue; these are exercised by a device test that skips without a GPU.
#pragma once

#include <cstdint>
#include <string>

namespace tensord::cuda {

// c[i] = a[i] + b[i] for device pointers; returns an empty string or the CUDA error text.
std::string AddFloat32(const float* a, const float* b, float* c, int64_t n);

}  // namespace tensord::cuda
