// How the CPU reduction kernels walk their input (kernels/reductions*.cc, kernels/grad_ops.cc).
#pragma once

#include <string>
#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

// How one run maps input elements to output elements. Walking the input in C order with
// ForEachRow over {out_strides, x.strides(), reduced_index_strides} yields, per element,
// the output element it folds into and its flat index within the reduced axes (C order), which
// is what argmax reports. Elements of one output are visited in increasing reduced index.
struct ReduceLayout {
  runtime::Shape out_shape;
  Strides out_strides;            // per input dim; 0 on reduced dims
  Strides reduced_index_strides;  // per input dim; 0 on kept dims
  int64_t reduced_count = 1;      // elements folded into each output element
};
ReduceLayout MakeReduceLayout(const runtime::Shape& in_shape, const std::vector<int64_t>& axes);

// INVALID_ARGUMENT for reductions without an identity (max, argmin ...) over zero elements, as
// NumPy refuses them; an empty output of a non-empty reduction is fine.
absl::Status CheckNonEmptyReduction(const std::string& op, const runtime::Shape& in_shape,
                                    const ReduceLayout& layout);

// out = sum of x over `axes` (in x's dtype; float32 accumulates in float64, as sum does).
absl::Status SumOverAxes(const runtime::Tensor& x, std::vector<int64_t> axes, runtime::Tensor& out);

}  // namespace tensord::cpu
