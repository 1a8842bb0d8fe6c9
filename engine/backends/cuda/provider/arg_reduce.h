// argmax, argmin and max_and_argmax (engine/ops/defs/reductions_arg.cc) on the CUDA provider:
// for each output a thread walks the reduced elements in C order, keeping the first of equal
// values and the first NaN, as NumPy and the host do, and writes the flat index within the
// reduced axes (and, for max_and_argmax, the value). Any dtype but float16. A thread per output
// suits a classifier's argmax over its classes (many rows, short ones); a long reduction into
// few outputs runs on few threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// The most dims of an arg reduction's input.
constexpr int kMostArgDims = 8;

bool IsDeviceArgReduction(const ir::Apply& node);

// tensord_arg_reduce(const T* x, long long* index, T* value, tensord_arg_params p), `value`
// written only when `with_value`.
absl::StatusOr<std::string> ArgReduceSource(DType dtype, bool is_max, bool with_value);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeArgReduceKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
