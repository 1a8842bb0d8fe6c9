// Built when no CUDA compiler was found: the server still runs, with CPU contexts only.
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/device.h"
#include "engine/backends/cuda/launch.h"
#include "engine/backends/cuda/nvrtc.h"

namespace tensord::cuda {

bool Available() { return false; }
int DeviceCount() { return 0; }
std::string DeviceName(int ordinal) { return "unavailable"; }
std::unique_ptr<DeviceMemory> DeviceMemoryOf(int) { return nullptr; }

// Never reached: without CUDA there is no cudaN context to run a kernel on.
namespace {
absl::Status NoCuda() { return absl::UnimplementedError("this server was built without CUDA"); }
}  // namespace
NvrtcResult CompileToPtx(const std::string&, const std::string&, const std::string&) {
  return {false, "", "this server was built without CUDA"};
}
absl::StatusOr<std::string> ComputeArchitecture(int) { return NoCuda(); }
absl::StatusOr<std::vector<KernelHandle>> LoadKernels(const std::string&,
                                                      const std::vector<std::string>&) {
  return NoCuda();
}
absl::Status Launch(KernelHandle, int, int64_t, int, void**) { return NoCuda(); }
absl::StatusOr<EventHandle> RecordEvent(int) { return NoCuda(); }
absl::StatusOr<int64_t> EventElapsedNs(EventHandle, EventHandle) { return NoCuda(); }
void DestroyEvent(EventHandle) {}
absl::Status Gemm(int, DType, bool, bool, int64_t, int64_t, int64_t, double, const void*, int64_t,
                  const void*, int64_t, double, void*, const GemmBatch&) {
  return NoCuda();
}

}  // namespace tensord::cuda
