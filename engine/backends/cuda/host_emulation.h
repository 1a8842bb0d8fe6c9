// Runs the CUDA provider's generated kernels on the CPU: the emulated device (device_runtime.h)
// and the kernel tests use it. The CUDA C++ source is compiled as host C++ by the compiler that
// built tensord (TENSORD_EMULATION_CXX overrides it) behind a prelude that gives it CUDA's
// names (threadIdx, blockIdx, blockDim, gridDim, __syncthreads, __shared__, the math functions).
// A launch runs the grid's blocks one after another, each block's threads as coroutines that
// meet at every __syncthreads. So a kernel's logic (its indexing, its folds, its synchronization)
// is checked where there is no GPU; the CUDA math library's own rounding is not (the host's libm
// stands in for it).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "engine/backends/cuda/launch.h"

namespace tensord::cuda {

// One generated source (composite_source.h) and the names of its kernels to run. Each source
// is compiled in a namespace of its own, so sources with their own T share one library; its
// kernels' names must differ from every other source's (they are extern "C").
struct EmulatedSource {
  std::string source;
  std::vector<std::string> kernels;
};

class HostEmulation {
 public:
  // Compiles `sources` into one shared library (one compiler run) and loads it.
  static absl::StatusOr<std::unique_ptr<HostEmulation>> Compile(
      const std::vector<EmulatedSource>& sources);
  ~HostEmulation();

  // Kernel `name`, for LaunchHandle while this library lives.
  absl::StatusOr<KernelHandle> Handle(const std::string& name);

  // Runs `kernel` over `blocks` x `threads` with CUDA's argument array (`args[k]` points at
  // parameter k), as cudaLaunchKernel would; returns when the grid is done.
  static absl::Status LaunchHandle(KernelHandle kernel, int64_t blocks, int threads, void** args);

  // Handle(name), then LaunchHandle.
  absl::Status Launch(const std::string& name, int64_t blocks, int threads, void** args);

 private:
  struct Entry;  // a kernel's wrapper and its library's launcher
  HostEmulation() = default;
  void* library_ = nullptr;
  std::string directory_;
  absl::flat_hash_map<std::string, std::unique_ptr<Entry>> entries_;  // by kernel name
  absl::flat_hash_set<std::string> cooperative_;  // kernels whose source calls __syncthreads
};

}  // namespace tensord::cuda
