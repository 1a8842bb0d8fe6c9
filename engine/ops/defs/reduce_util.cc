#include "engine/ops/defs/reduce_util.h"

#include <algorithm>

#include "engine/ops/defs/type_rules.h"

namespace tensord::ops {

absl::StatusOr<std::vector<int64_t>> ReducedAxes(const ir::Apply& node) {
  int ndim = node.inputs[0]->type.ndim();
  if (!node.attrs.count("axis")) {
    std::vector<int64_t> all(ndim);
    for (int i = 0; i < ndim; ++i) all[i] = i;
    return all;
  }
  TENSORD_ASSIGN_OR_RETURN(auto axes, ir::GetIntsAttr(node, "axis"));
  return NormalizeAxes(node, std::move(axes), ndim);
}

absl::StatusOr<ir::Type> ReducedType(const ir::Apply& node, DType dtype) {
  TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
  const ir::Type& in = node.inputs[0]->type;
  ir::Type out;
  out.dtype = dtype;
  for (int d = 0; d < in.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d))
      out.broadcastable.push_back(in.broadcastable[d]);
  return out;
}

absl::Status CheckReducibleDType(const ir::Apply& node) {
  if (node.inputs[0]->type.dtype == DType::kFloat16) {
    return Unimplemented(node.op, ": float16 is not supported yet");
  }
  return absl::OkStatus();
}

}  // namespace tensord::ops
