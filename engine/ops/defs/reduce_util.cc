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

absl::StatusOr<std::vector<ir::Type>> InferReduction(const ir::Apply& node,
                                                     const ReductionTyping& typing) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  const DType in = node.inputs[0]->type.dtype;
  std::vector<ir::Type> types;
  for (ReducedDType rule : typing.outputs) {
    DType dtype = in;
    switch (rule) {
      case ReducedDType::kSame:
        break;
      case ReducedDType::kAccumulate:
        dtype = SumResultType(in);
        if (node.attrs.count("dtype")) {
          TENSORD_ASSIGN_OR_RETURN(dtype, ir::GetAttr<DType>(node, "dtype"));
          if (dtype == DType::kFloat16) {
            return Unimplemented(node.op, ": float16 is not supported yet");
          }
        }
        break;
      case ReducedDType::kBool:
        dtype = DType::kBool;
        break;
      case ReducedDType::kIndex:
        dtype = DType::kInt64;
        break;
      case ReducedDType::kFloat:
        dtype = in == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
        break;
    }
    TENSORD_ASSIGN_OR_RETURN(ir::Type out, ReducedType(node, dtype));
    types.push_back(std::move(out));
  }
  return types;
}

double MomentAttrs::Divisor(int64_t n) const {
  return std::max(static_cast<double>(n) - static_cast<double>(ddof), 0.0);
}

absl::StatusOr<MomentAttrs> GetMomentAttrs(const ir::Apply& node) {
  MomentAttrs a;
  TENSORD_ASSIGN_OR_RETURN(a.axes, ReducedAxes(node));
  if (node.attrs.count("ddof")) {
    TENSORD_ASSIGN_OR_RETURN(a.ddof, ir::GetAttr<int64_t>(node, "ddof"));
  }
  if (node.attrs.count("corrected")) {
    TENSORD_ASSIGN_OR_RETURN(a.corrected, ir::GetAttr<bool>(node, "corrected"));
  }
  return a;
}

DType MomentDType(DType value) {
  return value == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
}

}  // namespace tensord::ops
