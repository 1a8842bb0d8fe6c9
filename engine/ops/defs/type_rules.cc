#include "engine/ops/defs/type_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace tensord::ops {
namespace {

// The output dtype `rule` gives for inputs whose promotion is `promoted`.
absl::StatusOr<DType> ApplyRule(ElemDTypeRule rule, DType promoted) {
  if (rule == ElemDTypeRule::kUpcastNoBool && promoted == DType::kBool) {
    return InvalidArgument("not defined for bool inputs (use xor / invert)");
  }
  const DType out = rule == ElemDTypeRule::kUpgradeToFloat ? UpgradeToFloat(promoted) : promoted;
  if (out == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return out;
}

bool Accepts(DTypeClass accepts, DType d) {
  switch (accepts) {
    case DTypeClass::kAny:
      return true;
    case DTypeClass::kNotBool:
      return d != DType::kBool;
    case DTypeClass::kIntOrBool:
      return d == DType::kBool || IsInteger(d);
  }
  return false;
}

const char* AcceptsText(DTypeClass accepts) {
  return accepts == DTypeClass::kNotBool ? "numeric (not bool)" : "integer or bool";
}

}  // namespace

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
  TENSORD_ASSIGN_OR_RETURN(out.dtype, ApplyRule(rule, out.dtype));
  return std::vector<ir::Type>{out};
}

absl::StatusOr<std::vector<ir::Type>> InferTyped(const ir::Apply& node,
                                                 const ElementwiseTyping& typing) {
  TENSORD_ASSIGN_OR_RETURN(
      auto types,
      InferElementwise(node, typing.condition_in ? ElemDTypeRule::kUpcast : typing.rule));
  if (typing.condition_in) {  // the condition takes part in broadcasting only
    DType values = node.inputs.size() > 1 ? node.inputs[1]->type.dtype : DType::kBool;
    for (size_t k = 2; k < node.inputs.size(); ++k)
      values = Promote(values, node.inputs[k]->type.dtype);
    TENSORD_ASSIGN_OR_RETURN(types[0].dtype, ApplyRule(typing.rule, values));
  }
  if (!Accepts(typing.accepts, types[0].dtype)) {
    std::string got;
    for (const ir::Variable* v : node.inputs)
      absl::StrAppend(&got, got.empty() ? "" : ", ", DTypeName(v->type.dtype));
    return InvalidArgument("needs ", AcceptsText(typing.accepts), " inputs, got ", got);
  }
  if (typing.bool_out) types[0].dtype = DType::kBool;
  return types;
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
