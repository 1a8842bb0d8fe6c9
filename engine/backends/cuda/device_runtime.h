// What the CUDA provider's kernels ask of a device: to compile generated CUDA C++ into kernels,
// to launch them, and cuBLAS's matrix product. Two devices answer:
// - a GPU (GpuRuntime: NVRTC, cudaLaunchKernel and cuBLAS through launch.h and blas.h, which
//   refuse every call in a build without CUDA);
// - the host emulator (EmulatedRuntime, the `emuN` devices): the same source built by the host's
//   C++ compiler and run on the CPU by host_emulation.h, products by a plain loop (which
//   refuses leading dimensions cuBLAS would refuse), over a simulated device's separate memory. It
//   is slow and needs a C++ compiler where the server runs: it exists so that CI, which has no GPU,
//   runs every path of the provider (placement, uploads, launches, the kernels' logic) that a GPU
//   would, against the host's results.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/launch.h"
#include "engine/common/dtype.h"

namespace tensord::cuda {

// A point in a device's queue of work (DeviceRuntime::Mark): a GPU's CUDA event, or the
// emulator's clock reading.
struct DeviceMark {
  EventHandle event = nullptr;
  int64_t host_ns = 0;
};

class DeviceRuntime {
 public:
  virtual ~DeviceRuntime() = default;

  // What the kernels are compiled for ("compute_90", "host"): compiled kernels are kept per
  // architecture and source.
  virtual absl::StatusOr<std::string> Architecture() = 0;

  // Compiles `source` and finds each kernel of `names` in it, kept for the process.
  virtual absl::StatusOr<std::vector<KernelHandle>> Compile(
      const std::string& source, const std::vector<std::string>& names) = 0;

  // Runs `kernel` over `blocks` x `threads` with CUDA's argument array (`args[k]` points at
  // argument k), after the device's earlier work; returns once it is queued.
  virtual absl::Status Launch(KernelHandle kernel, int64_t blocks, int threads, void** args) = 0;

  // A mark after the work issued so far, for timing it (a profile's per-node times): ElapsedNs
  // waits for the later mark and gives the device's time between two; Release frees one. A GPU's
  // marks are CUDA events, so a node's time is its kernels' on the device, not their launch's;
  // the emulator runs each launch as it is issued, so its marks read the host's clock.
  virtual absl::StatusOr<DeviceMark> Mark() = 0;
  virtual absl::StatusOr<int64_t> ElapsedNs(const DeviceMark& from, const DeviceMark& to) = 0;
  virtual void Release(const DeviceMark& mark) = 0;

  // blas.h's Gemm on this device.
  virtual absl::Status Gemm(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n,
                            int64_t k, double alpha, const void* a, int64_t lda, const void* b,
                            int64_t ldb, double beta, void* c, const GemmBatch& batch) = 0;
};

// GPU `ordinal`'s runtime (one per device, kept for the process).
std::shared_ptr<DeviceRuntime> GpuRuntime(int ordinal);

// The host emulator's runtime (one for the process: it has no state per device).
std::shared_ptr<DeviceRuntime> EmulatedRuntime();

}  // namespace tensord::cuda
