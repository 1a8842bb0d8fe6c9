// A boolean mask's nonzero() on the CUDA provider, for indexing by a mask (indexing.h): for a mask
// of D dims, D int64 vectors holding the coordinates of its true elements in C order, as
// numpy.nonzero gives them. Their length, the count of trues, sizes them (and the indexed
// result), so a run reads that one word back: three launches, the lanes counting the trues of
// their ranges of the mask, one block turning the counts into each lane's first position and the
// total, then the lanes writing their coordinates.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/runtime/tensor.h"

namespace tensord::cuda {

// The kernels <name>_count, <name>_scan (LaneScanSource's, over `counts`) and <name>_write for
// a bool mask of `rank` (1 to 8) dims, walked through its strides:
//   struct <name>_params {
//     long long n, lanes, chunk;          // mask elements; lanes of `chunk` elements each
//     long long shape[rank], strides[rank];
//     const bool* mask;
//     long long* counts;                  // lanes + 1 words: each lane's count, then its first
//                                         // position; the total last
//     long long* out[rank];               // the coordinate vectors (_write)
//   };
absl::StatusOr<std::string> NonzeroSource(int rank, const std::string& name);

// nonzero() of masks of one rank on a device.
class DeviceNonzero {
 public:
  static absl::StatusOr<std::unique_ptr<DeviceNonzero>> Make(int rank);

  // The coordinate vectors of `mask` (on `device`, of the rank built for; a 0-d mask as the one
  // element of a 1-d one: a vector of 0s, one per true), allocated in the thread's memory
  // context (a kernel's: its node's).
  absl::StatusOr<std::vector<runtime::Tensor>> Run(DeviceRuntime& device,
                                                   const runtime::Tensor& mask);

 private:
  DeviceNonzero(int rank, std::string source);
  const int rank_;
  KernelsOnce kernels_;
};

}  // namespace tensord::cuda
