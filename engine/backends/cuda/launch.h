// The CUDA runtime calls the CUDA provider's kernels need, with no CUDA type in sight so that
// the provider builds everywhere (launch.cc with CUDA; device_none.cc refuses each call):
// loading a kernel NVRTC compiled, launching it on a device, and waiting for the device. Kernels
// run on each device's legacy default stream, in issue order, which is what the caching
// allocator's stream-ordered reuse relies on (a copy to the host waits for them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tensord::cuda {

using KernelHandle = const void*;  // a cudaKernel_t

// "compute_90": the virtual architecture NVRTC compiles for device `ordinal`.
absl::StatusOr<std::string> ComputeArchitecture(int ordinal);

// Loads `ptx` (NVRTC's output) for the process and finds each kernel of `names` in it. The
// library is never unloaded: the provider's cache keeps every kernel it compiled.
absl::StatusOr<std::vector<KernelHandle>> LoadKernels(const std::string& ptx,
                                                      const std::vector<std::string>& names);

// Launches `kernel` on device `ordinal` with `blocks` blocks of `threads`; `args` points at each
// argument's value, as cudaLaunchKernel takes them. Returns once it is queued.
absl::Status Launch(KernelHandle kernel, int ordinal, int64_t blocks, int threads, void** args);

using EventHandle = void*;  // a cudaEvent_t

// An event recorded on device `ordinal`'s stream after the work queued so far (profiles time a
// node's kernels between two).
absl::StatusOr<EventHandle> RecordEvent(int ordinal);
// Waits for `to`, then the device time from `from` to `to` in nanoseconds (CUDA's resolution is
// about half a microsecond).
absl::StatusOr<int64_t> EventElapsedNs(EventHandle from, EventHandle to);
void DestroyEvent(EventHandle event);

}  // namespace tensord::cuda
