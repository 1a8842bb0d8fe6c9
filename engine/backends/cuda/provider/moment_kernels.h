// var and std (engine/ops/defs/reductions_stats.cc) on a CUDA device, over any axes of a value
// of any dtype but float16 with at most kMostFoldDims dims (fold_layout.h), read through its
// strides: float32 results for float32 values, float64 for the others, as on the host.
//
// Two passes as the host's, in double: a block per output folds its elements (its threads
// strided over them, then a fixed tree: the same bits every run) into their sum, then into the
// squared deviations from the mean and the deviations themselves (for Theano's `corrected`
// form); its first thread divides by max(n - ddof, 0) as NumPy does. The tree adds in another
// order than the host's loop, so the last bits may differ. A moment of every element is one
// block's work: slow on a large value (a GPU would want partial sums over many blocks).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

bool IsDeviceMoment(const ir::Apply& node);

// tensord_moment(const T* x, R* out, tensord_moment_params p) for values of `dtype`.
absl::StatusOr<std::string> MomentSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeMomentKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
