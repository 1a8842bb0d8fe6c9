// sort and argsort along one axis on the CUDA provider (engine/ops/defs/join_sort.cc): NumPy's
// stable order with NaN last, the host's result exactly. Each lane (the values along the axis
// at one position of the other dims) is copied into scratch, sorted by merging runs of 1, 2,
// 4, ... elements (one launch per pass, a thread per element: its place in the merged run is
// its place in its own run plus how many of the other run come before it, found by binary
// search; equal keys of the left run come first, which keeps the sort stable), then written
// out. log2(length) passes of O(n log length) work: no sort of one lane by one thread.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// The most dims a device sort's input has besides the sorted axis.
constexpr int kMostSortLaneDims = 8;

// Whether the device sorts `node`: sort or argsort of a value of any dtype but float16, of at
// most kMostSortLaneDims + 1 dims.
bool IsDeviceSort(const ir::Apply& node);

// The kernels for keys of `dtype`, writing the sorted keys or (`indices`) their int64 indices:
// tensord_sort_load, tensord_sort_merge and tensord_sort_store over tensord_sort_params.
absl::StatusOr<std::string> SortSource(DType dtype, bool indices);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeSortKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
