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

absl::Status Launch(KernelHandle kernel, int ordinal, int64_t blocks, int threads, void** args) {
  int previous = -1;
  if (cudaGetDevice(&previous) != cudaSuccess) return Failed("cudaGetDevice", cudaGetLastError());
  if (previous != ordinal) {
    if (cudaError_t error = cudaSetDevice(ordinal); error != cudaSuccess) {
      return Failed("cudaSetDevice", error);
    }
  }
  // A cudaKernel_t is launched as a function pointer (CUDA 12's runtime API says so).
  const cudaError_t error = cudaLaunchKernel(kernel, dim3(static_cast<unsigned>(blocks)),
                                             dim3(static_cast<unsigned>(threads)), args, 0, 0);
  if (previous != ordinal) cudaSetDevice(previous);
  if (error != cudaSuccess) return Failed("cudaLaunchKernel", error);
  return absl::OkStatus();
}

}  // namespace tensord::cuda
