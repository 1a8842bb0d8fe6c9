#include "engine/backends/cuda/elementwise.h"

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <vector>

#include "engine/backends/cuda/caching_allocator.h"
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

namespace tensord::cuda {
namespace {

// The caching allocator on a real device: a loop reuses its blocks, and asking for more than
// the device has is RESOURCE_EXHAUSTED, after which the device still allocates.
TEST(CudaCachingAllocator, ReusesBlocksAndRefusesMoreThanTheDevice) {
  std::unique_ptr<DeviceMemory> memory = DeviceMemoryOf(0);
  if (memory == nullptr) GTEST_SKIP() << "no CUDA device";
  CachingAllocator a(*memory, "cuda0");
  for (int step = 0; step < 10; ++step) {
    auto p = a.Allocate(64 << 20);
    ASSERT_TRUE(p.ok()) << p.status();
    ASSERT_EQ(cudaMemset(*p, 0, 64 << 20), cudaSuccess);
    a.Free(*p);
  }
  EXPECT_EQ(a.stats().device_allocations, 1);
  auto huge = a.Allocate(memory->Total() * 2);
  EXPECT_EQ(huge.status().code(), absl::StatusCode::kResourceExhausted);
  auto after = a.Allocate(1 << 20);
  ASSERT_TRUE(after.ok()) << after.status();
  a.Free(*after);
}

}  // namespace
}  // namespace tensord::cuda
