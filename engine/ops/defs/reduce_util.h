// Shared by the reduction and scan families (reductions*.cc, scans.cc): which axes an apply
// reduces, its output type, and how a kernel walks the input onto the output.
#pragma once

#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/ops/op_def.h"

namespace tensord::ops {

// The axes an apply reduces: attr `axis` (ints, negative allowed), absent meaning all of them.
// Out-of-range and repeated axes are refused here, so at compile time.
absl::StatusOr<std::vector<int64_t>> ReducedAxes(const ir::Apply& node);

// The output type of reducing input 0 over ReducedAxes(node), with the given dtype.
absl::StatusOr<ir::Type> ReducedType(const ir::Apply& node, DType dtype);

// Refuses dtypes no CPU kernel handles (float16), naming the op.
absl::Status CheckReducibleDType(const ir::Apply& node);

// How one run maps input elements to output elements. Walking the input in C order with
// cpu::ForEachRow over {out_strides, x.strides(), reduced_index_strides} yields, per element,
// the output element it folds into and its flat index within the reduced axes (C order), which
// is what argmax reports. Elements of one output are visited in increasing reduced index.
struct ReduceLayout {
  runtime::Shape out_shape;
  cpu::Strides out_strides;            // per input dim; 0 on reduced dims
  cpu::Strides reduced_index_strides;  // per input dim; 0 on kept dims
  int64_t reduced_count = 1;           // elements folded into each output element
};
ReduceLayout MakeReduceLayout(const runtime::Shape& in_shape, const std::vector<int64_t>& axes);

// INVALID_ARGUMENT for reductions without an identity (max, argmin ...) over zero elements, as
// NumPy refuses them; an empty output of a non-empty reduction is fine.
absl::Status CheckNonEmptyReduction(const std::string& op, const runtime::Shape& in_shape,
                                    const ReduceLayout& layout);

// out = sum of x over `axes` (in x's dtype; float32 accumulates in float64, as sum does).
absl::Status SumOverAxes(const runtime::Tensor& x, std::vector<int64_t> axes, runtime::Tensor& out);

// Families registered from RegisterReductions, so register_all.h lists the family once.
void RegisterReductionStats(Registry& r);
void RegisterArgReductions(Registry& r);
void RegisterScans(Registry& r);

}  // namespace tensord::ops
