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
  // Every fusable op in both float dtypes and with an int32 operand, but the int32 fill (the
  // device computes float results and bools): as on emu0 (cuda_emulation_tests).
  EXPECT_GE(CheckEveryFusableOp(*contexts, "conf0"), 114);
}

}  // namespace
}  // namespace tensord::cuda::testing
