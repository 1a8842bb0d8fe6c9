// The CUDA provider's kernels of generated programs (composite_source.h): elementwise, full
// reductions and reductions over some axes, each compiled per merged rank through a
// DeviceRuntime; and what the provider's other kernels share with them.
#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/composite_source.h"  // FloatDType
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/cuda/provider/provider.h"
#include "engine/backends/cuda/provider/reduce_axes.h"
#include "engine/backends/kernel.h"

namespace tensord::cuda {

// The launch shape of the one-thread-per-element kernels: a grid-stride loop covers the rest.
constexpr int kThreads = 256;
constexpr int64_t kMostBlocks = 1 << 16;
// The blocks of kThreads that cover `n` elements, at most kMostBlocks.
inline int64_t GridFor(int64_t n) { return std::min((n + kThreads - 1) / kThreads, kMostBlocks); }

// CUDA source of `tensord_offset(flat, shape, strides)`: the offset of element `flat` (C order)
// of the `rank` dims `shape` (arrays of that length, padded in front with dims of 1) through
// `strides`, for the kernels that walk a layout given in their parameters.
std::string OffsetSource(int rank);

// Work split into lanes, a thread each walking a contiguous range of `chunk` items in order, at
// most kMostLanes of them; a lane's count of what it makes turns into its first position by the
// scan of LaneScanSource (a pass to count, the scan, a pass to make: nonzero(), per-element
// binomial draws).
constexpr int64_t kMostLanes = int64_t{1} << 16;
constexpr int kScanThreads = 256;  // the scan's one block
struct Lanes {
  int64_t lanes = 0, chunk = 1;
};
inline Lanes LanesFor(int64_t items) {
  Lanes l;
  l.chunk = std::max<int64_t>(1, (items + kMostLanes - 1) / kMostLanes);
  l.lanes = (items + l.chunk - 1) / l.chunk;
  return l;
}
// The opening of a lane's kernel whose parameters `p` hold n (items), lanes and chunk: `lane`, and
// its items [begin, end) (a lane past the last returns); of lanes [first, last) when given.
std::string LaneRangeSource(const std::string& first = "0", const std::string& last = "p.lanes");
// The source of `<name>(long long* counts, long long lanes)`, launched as one block of
// kScanThreads: counts[0, lanes) become their exclusive prefix sums and counts[lanes] the total.
std::string LaneScanSource(const std::string& name);

// A uint64 word of `value` in `context`'s memory (a device), for a kernel to report through:
// built on the host, copied in (which waits for the device's earlier work: for reports read back
// at once). Made per run, as runs may overlap.
absl::StatusOr<runtime::Tensor> DeviceWord(uint64_t value, runtime::MemoryCounter* context);

// The kernels named `names` of `source`, compiled once in this process per architecture and
// source (a failure too): functions and nodes computing the same program share them.
absl::StatusOr<std::vector<KernelHandle>> CompiledKernels(DeviceRuntime& device,
                                                          const std::string& source,
                                                          const std::vector<std::string>& names);

// The kernels of one source, compiled (CompiledKernels) on the first run that needs them and
// kept: later runs neither build the source nor look it up.
class KernelsOnce {
 public:
  KernelsOnce(std::string source, std::vector<std::string> names)
      : source_(std::move(source)), names_(std::move(names)) {}
  absl::StatusOr<const std::vector<KernelHandle>*> Get(DeviceRuntime& device);

 private:
  const std::string source_;
  const std::vector<std::string> names_;
  std::mutex mu_;
  std::vector<KernelHandle> kept_;  // never changes once filled
};

// An elementwise program: one thread per output element (its inputs converted as `work` says).
std::unique_ptr<backends::Kernel> MakeElementwiseKernel(DeviceElementwise work,
                                                        std::shared_ptr<DeviceRuntime> device);
// A program reduced over every element (its `reduce`), in two launches.
std::unique_ptr<backends::Kernel> MakeReduceKernel(ops::composite::Program program,
                                                   std::shared_ptr<DeviceRuntime> device);
// A reduction node over some of its value's dims (reduce_axes.h).
std::unique_ptr<backends::Kernel> MakeAxesReduceKernel(DeviceReduction reduction,
                                                       std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
