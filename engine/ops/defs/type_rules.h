// Type inference rules shared by several op families.
#pragma once

#include <vector>

#include "engine/ir/graph.h"

namespace tensord::ops {

enum class ElemDTypeRule {
  kUpcast,          // numpy.result_type of the inputs
  kUpcastNoBool,    // same, but bool inputs are refused (numpy refuses bool - and -bool)
  kUpgradeToFloat,  // result_type, then ints become floats (true_div, exp, log)
};

// Which output dtypes an elementwise op is defined for (others are refused, naming the inputs).
enum class DTypeClass {
  kAny,
  kNotBool,    // numeric: int_div, mod, sgn, the roundings
  kIntOrBool,  // bitwise: and, or, xor, invert
};

// An elementwise op's type rule, as data: the output dtype is `rule` over the inputs (all of
// them, or all but a leading bool condition), refused outside `accepts`, and then bool for
// predicates. Broadcasting is NumPy's.
struct ElementwiseTyping {
  ElemDTypeRule rule = ElemDTypeRule::kUpcast;
  DTypeClass accepts = DTypeClass::kAny;
  bool bool_out = false;      // comparisons, isnan, isinf
  bool condition_in = false;  // input 0 is a condition, outside the promotion (switch)
};

// The dtype of one output of a reduction (op schema: ReductionTyping).
enum class ReducedDType {
  kSame,        // the input's (max, min)
  kAccumulate,  // NumPy's sum dtype (small ints widen to 64 bits) unless attr `dtype` names one
  kBool,        // all, any
  kIndex,       // int64 (argmax, argmin)
  kFloat,       // float32 stays float32, everything else float64 (mean, var, std)
};

// A reduction's type rule, as data: one dtype rule per output, each output the input's type
// with the dims of attr `axis` (all when absent) removed.
struct ReductionTyping {
  std::vector<ReducedDType> outputs;
};

// Output types of an elementwise node by its typing (InferElementwise, then the dtype rules).
absl::StatusOr<std::vector<ir::Type>> InferTyped(const ir::Apply& node,
                                                 const ElementwiseTyping& typing);

// Elementwise: inputs of lower rank are aligned on the right (NumPy); an output dimension is
// broadcastable only where every input is.
absl::StatusOr<std::vector<ir::Type>> InferElementwise(const ir::Apply& node, ElemDTypeRule rule);

// Normalizes an axis list against `ndim` (negative axes count from the end); refuses
// out-of-range and repeated axes with a message naming the op.
absl::StatusOr<std::vector<int64_t>> NormalizeAxes(const ir::Apply& node, std::vector<int64_t> axes,
                                                   int ndim);

}  // namespace tensord::ops
