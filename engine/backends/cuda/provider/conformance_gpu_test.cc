// The device conformance suite (conformance_testing.h) on cuda0: every fusable op the CUDA
// provider runs, against the host's result. Skipped without a device.
#include "engine/backends/cuda/device.h"
#include "engine/backends/cuda/provider/conformance_testing.h"

namespace tensord::cuda::testing {
namespace {

TEST(CudaConformance, EveryFusableOpOnCuda0MatchesTheHost) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  static const context::ContextRegistry* contexts =
      context::ContextRegistry::Create("conf0->cuda0", "cpu")->release();
  EXPECT_GE(CheckEveryFusableOp(*contexts, "conf0"), 78);  // 40 ops of float output, 2 dtypes
}

}  // namespace
}  // namespace tensord::cuda::testing
