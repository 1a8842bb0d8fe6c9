// argmax, argmin and max_and_argmax (engine/ops/defs/reductions_arg.cc) on the CUDA provider:
// the flat index within the reduced axes of the first NaN, else of the first of the best values,
// as NumPy and the host give it (and, for max_and_argmax, the value). Any dtype but float16. A
// thread per output walks its elements in C order (a classifier's argmax over its classes: many
// short rows); long rows into few outputs get a block each, its threads folding strided
// elements and then each other's bests in a tree, in an order that gives the same answer.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

bool IsDeviceArgReduction(const ir::Apply& node);

// tensord_arg_reduce and tensord_arg_reduce_by_block(const T* x, long long* index, T* value,
// tensord_arg_params p), `value` written only when `with_value`.
absl::StatusOr<std::string> ArgReduceSource(DType dtype, bool is_max, bool with_value);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeArgReduceKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
