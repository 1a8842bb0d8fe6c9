#include "engine/backends/cuda/launch.h"

#include <cuda_runtime_api.h>
#include <nvrtc.h>

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"

namespace tensord::cuda {
namespace {

absl::Status Failed(const char* what, cudaError_t error) {
  cudaGetLastError();  // this call's error, not left for the next one to report
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(error)));
}

}  // namespace

absl::StatusOr<std::string> ComputeArchitecture(int ordinal) {
  int major = 0, minor = 0;
  cudaError_t error = cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, ordinal);
  if (error == cudaSuccess) {
    error = cudaDeviceGetAttribute(&minor, cudaDevAttrComputeCapabilityMinor, ordinal);
  }
  if (error != cudaSuccess) return Failed("cudaDeviceGetAttribute", error);
  // A device newer than this NVRTC knows runs the newest architecture it does (PTX is compiled
  // on for the device when loaded).
  int count = 0;
  std::vector<int> supported;
  if (nvrtcGetNumSupportedArchs(&count) == NVRTC_SUCCESS && count > 0) {
    supported.resize(count);
    if (nvrtcGetSupportedArchs(supported.data()) != NVRTC_SUCCESS) supported.clear();
  }
  int arch = major * 10 + minor;
  if (!supported.empty()) {
    int best = supported.front();
    for (int a : supported)
      if (a <= arch) best = std::max(best, a);
    arch = best;
  }
  return absl::StrCat("compute_", arch);
}

absl::StatusOr<std::vector<KernelHandle>> LoadKernels(const std::string& ptx,
                                                      const std::vector<std::string>& names) {
  cudaLibrary_t library;
  cudaError_t error =
      cudaLibraryLoadData(&library, ptx.c_str(), nullptr, nullptr, 0, nullptr, nullptr, 0);
  if (error != cudaSuccess) return Failed("cudaLibraryLoadData", error);
  std::vector<KernelHandle> kernels;
  for (const std::string& name : names) {
    cudaKernel_t kernel;
    error = cudaLibraryGetKernel(&kernel, library, name.c_str());
    if (error != cudaSuccess) {
      absl::Status failed = Failed("cudaLibraryGetKernel", error);
      cudaLibraryUnload(library);
      return failed;
    }
    kernels.push_back(reinterpret_cast<KernelHandle>(kernel));
  }
  return kernels;
}

// Runs `call` (returning a cudaError_t, reported as `what`) with device `ordinal` current, then
// makes the previous one current again.
template <typename Call>
absl::Status OnDevice(int ordinal, const char* what, Call call) {
  int previous = -1;
  if (cudaError_t error = cudaGetDevice(&previous); error != cudaSuccess) {
    return Failed("cudaGetDevice", error);
  }
  if (previous != ordinal) {
    if (cudaError_t error = cudaSetDevice(ordinal); error != cudaSuccess) {
      return Failed("cudaSetDevice", error);
    }
  }
  const cudaError_t error = call();
  if (previous != ordinal) cudaSetDevice(previous);
  if (error != cudaSuccess) return Failed(what, error);
  return absl::OkStatus();
}

absl::Status Launch(KernelHandle kernel, int ordinal, int64_t blocks, int threads, void** args) {
  // A cudaKernel_t is launched as a function pointer (CUDA 12's runtime API says so).
  return OnDevice(ordinal, "cudaLaunchKernel", [&] {
    return cudaLaunchKernel(kernel, dim3(static_cast<unsigned>(blocks)),
                            dim3(static_cast<unsigned>(threads)), args, 0, 0);
  });
}

absl::StatusOr<EventHandle> RecordEvent(int ordinal) {
  cudaEvent_t event = nullptr;
  absl::Status made = OnDevice(ordinal, "cudaEventCreate", [&] { return cudaEventCreate(&event); });
  if (made.ok()) {
    made = OnDevice(ordinal, "cudaEventRecord", [&] { return cudaEventRecord(event, 0); });
  }
  if (!made.ok()) {
    if (event != nullptr) cudaEventDestroy(event);
    return made;
  }
  return static_cast<EventHandle>(event);
}

absl::StatusOr<int64_t> EventElapsedNs(EventHandle from, EventHandle to) {
  cudaEvent_t end = static_cast<cudaEvent_t>(to);
  if (cudaError_t error = cudaEventSynchronize(end); error != cudaSuccess) {
    return Failed("cudaEventSynchronize", error);
  }
  float ms = 0;
  if (cudaError_t error = cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(from), end);
      error != cudaSuccess) {
    return Failed("cudaEventElapsedTime", error);
  }
  return static_cast<int64_t>(ms * 1e6);
}

void DestroyEvent(EventHandle event) { cudaEventDestroy(static_cast<cudaEvent_t>(event)); }

}  // namespace tensord::cuda
