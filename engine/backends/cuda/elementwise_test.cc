#include "engine/backends/cuda/elementwise.h"

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "engine/backends/cuda/device.h"

namespace tensord::cuda {
namespace {

TEST(CudaElementwise, AddMatchesHost) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  const int64_t n = 1 << 20;
  std::vector<float> a(n), b(n), c(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = 0.5f * i;
    b[i] = 1.0f - i;
  }
  float *da, *db, *dc;
  ASSERT_EQ(cudaMalloc(&da, n * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&db, n * 4), cudaSuccess);
  ASSERT_EQ(cudaMalloc(&dc, n * 4), cudaSuccess);
  cudaMemcpy(da, a.data(), n * 4, cudaMemcpyHostToDevice);
  cudaMemcpy(db, b.data(), n * 4, cudaMemcpyHostToDevice);
  EXPECT_EQ(AddFloat32(da, db, dc, n), "");
  ASSERT_EQ(cudaMemcpy(c.data(), dc, n * 4, cudaMemcpyDeviceToHost), cudaSuccess);
  for (int64_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(c[i], a[i] + b[i]) << i;
  cudaFree(da);
  cudaFree(db);
  cudaFree(dc);
}

}  // namespace
}  // namespace tensord::cuda
