// A context on a GPU (in cuda_backend_tests, the GPU bundle's; skipped without a device): its
// memory comes from the device through the caching allocator, preallocated as --preallocate
// says, and values cross over through cudaMemcpy.
#include <gtest/gtest.h>

#include "engine/backends/cuda/device.h"
#include "engine/context/context.h"
#include "engine/runtime/tensor.h"

namespace tensord::context {
namespace {

TEST(CudaContextMemory, ValuesRoundTripThroughThePreallocatedDevice) {
  if (cuda::DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  DeviceMemoryOptions options;
  options.preallocate = 0.1;
  auto registry = ContextRegistry::Create("mem0->cuda0", "cpu", false, options);
  ASSERT_TRUE(registry.ok()) << registry.status();
  ASSERT_EQ((*registry)->memory_log().size(), 1u);
  EXPECT_EQ((*registry)->memory_log()[0].rfind("Preallocating ", 0), 0u);
  const Context* dev0 = *(*registry)->Find("mem0");
  ASSERT_NE(dev0->blocks, nullptr);
  EXPECT_GT(dev0->blocks->stats().reserved_bytes, 0);

  runtime::Tensor host(DType::kFloat32, {1 << 20});
  for (int i = 0; i < (1 << 20); ++i) host.data<float>()[i] = 0.25f * i;
  auto in = runtime::IntoContext(host, dev0->memory);
  ASSERT_TRUE(in.ok()) << in.status();
  EXPECT_FALSE(in->host_accessible());
  EXPECT_EQ(dev0->blocks->stats().in_use_bytes, 4 << 20);
  auto out = runtime::OnHost(*in);
  ASSERT_TRUE(out.ok()) << out.status();
  for (int i = 0; i < (1 << 20); ++i) ASSERT_EQ(out->data<float>()[i], 0.25f * i) << i;
}

}  // namespace
}  // namespace tensord::context
