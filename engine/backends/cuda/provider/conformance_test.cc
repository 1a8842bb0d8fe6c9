// The device conformance suite (conformance_testing.h) on a simulated device: the host's
// kernels on both sides, so every op must agree (bit for bit, though the suite allows its
// tolerance); what this checks is the suite itself, which cuda_backend_tests runs on a GPU.
#include "engine/backends/cuda/provider/conformance_testing.h"

namespace tensord::cuda::testing {
namespace {

TEST(DeviceConformance, EveryFusableOpOnASimulatedDeviceMatchesTheHost) {
  static const context::ContextRegistry* contexts =
      context::ContextRegistry::Create("conf0->sim5", "cpu")->release();
  EXPECT_GE(CheckEveryFusableOp(*contexts, "conf0"), 115);
}

}  // namespace
}  // namespace tensord::cuda::testing
