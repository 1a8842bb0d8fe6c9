// Type inference rules shared by several op families.
#pragma once

#include "engine/ir/graph.h"

namespace tensord::ops {

enum class ElemDTypeRule {
  kUpcast,          // numpy.result_type of the inputs
  kUpcastNoBool,    // same, but bool inputs are refused (numpy refuses bool - and -bool)
  kUpgradeToFloat,  // result_type, then ints become floats (true_div, exp, log)
};

// Elementwise: inputs of lower rank are aligned on the right (NumPy); an output dimension is
// broadcastable only where every input is.
absl::StatusOr<std::vector<ir::Type>> InferElementwise(const ir::Apply& node, ElemDTypeRule rule);

// Normalizes an axis list against `ndim` (negative axes count from the end); refuses
// out-of-range and repeated axes with a message naming the op.
absl::StatusOr<std::vector<int64_t>> NormalizeAxes(const ir::Apply& node, std::vector<int64_t> axes,
                                                   int ndim);

}  // namespace tensord::ops
