#include "engine/ops/defs/type_rules.h"

#include <algorithm>

namespace tensord::ops {

absl::StatusOr<std::vector<ir::Type>> InferElementwise(const ir::Apply& node, ElemDTypeRule rule) {
  int nd = 0;
  for (const ir::Variable* in : node.inputs) nd = std::max(nd, in->type.ndim());
  ir::Type out{node.inputs[0]->type.dtype, std::vector<bool>(nd, true)};
  for (const ir::Variable* in : node.inputs) {
    out.dtype = Promote(out.dtype, in->type.dtype);
    int lead = nd - in->type.ndim();
    for (int d = 0; d < in->type.ndim(); ++d)
      if (!in->type.broadcastable[d]) out.broadcastable[lead + d] = false;
  }
  if (rule == ElemDTypeRule::kUpcastNoBool && out.dtype == DType::kBool) {
    return InvalidArgument("not defined for bool inputs (use xor / invert)");
  }
  if (rule == ElemDTypeRule::kUpgradeToFloat) out.dtype = UpgradeToFloat(out.dtype);
  if (out.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return std::vector<ir::Type>{out};
}

absl::StatusOr<std::vector<int64_t>> NormalizeAxes(const ir::Apply& node, std::vector<int64_t> axes,
                                                   int ndim) {
  for (int64_t& a : axes) {
    if (a < -ndim || a >= ndim) {
      return InvalidArgument("axis ", a, " is out of range for an input of rank ", ndim);
    }
    if (a < 0) a += ndim;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
    return InvalidArgument("repeated axis in ", node.op);
  }
  return axes;
}

}  // namespace tensord::ops
