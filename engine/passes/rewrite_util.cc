#include "engine/passes/rewrite_util.h"

#include <unordered_set>

#include "engine/backends/cpu/dispatch.h"

namespace tensord::passes {

const std::vector<std::string>& ElementwiseOps() {
  static const std::vector<std::string> kOps = {"abs",
                                                "add",
                                                "and",
                                                "arccos",
                                                "arcsin",
                                                "arctan",
                                                "arctan2",
                                                "cast",
                                                "ceil",
                                                "clip",
                                                "cos",
                                                "cosh",
                                                "eq",
                                                "erf",
                                                "erfc",
                                                "exp",
                                                "expm1",
                                                "fill",
                                                "floor",
                                                "gamma",
                                                "gammaln",
                                                "ge",
                                                "gt",
                                                "int_div",
                                                "invert",
                                                "isclose",
                                                "isinf",
                                                "isnan",
                                                "le",
                                                "log",
                                                "log10",
                                                "log1p",
                                                "log2",
                                                "lt",
                                                "maximum",
                                                "minimum",
                                                "mod",
                                                "mul",
                                                "neg",
                                                "neq",
                                                "or",
                                                "pow",
                                                "psi",
                                                "round_half_away_from_zero",
                                                "round_half_to_even",
                                                "sgn",
                                                "sigmoid",
                                                "sin",
                                                "sinh",
                                                "softplus",
                                                "sqr",
                                                "sqrt",
                                                "sub",
                                                "switch",
                                                "tan",
                                                "tanh",
                                                "tri_gamma",
                                                "true_div",
                                                "trunc",
                                                "xor"};
  return kOps;
}

bool IsElementwise(const std::string& op) {
  static const std::unordered_set<std::string> kSet(ElementwiseOps().begin(),
                                                    ElementwiseOps().end());
  return kSet.count(op) > 0;
}

std::optional<double> UniformUnitConstant(const ir::Variable* v) {
  if (v == nullptr || v->source != ir::Source::kConstant) return std::nullopt;
  const runtime::Tensor& t = v->constant;
  for (int64_t d : t.shape())
    if (d != 1) return std::nullopt;
  if (t.raw() == nullptr) return std::nullopt;
  std::optional<double> value;
  absl::Status st = cpu::DispatchAll(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    value = static_cast<double>(*t.data<T>());
    return absl::OkStatus();
  });
  if (!st.ok()) return std::nullopt;
  return value;
}

const ir::Apply* ProducedBy(const ir::Variable* v, const std::string& op) {
  if (v == nullptr || v->owner == nullptr || v->owner->op != op) return nullptr;
  return v->owner;
}

ir::Variable* ApplyWithout(RuleContext& b, const ir::Apply& node, size_t drop) {
  const ir::Type& type = node.outputs[0]->type;
  std::vector<ir::Variable*> rest;
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (i != drop) rest.push_back(node.inputs[i]);
  if (rest.empty()) return nullptr;
  if (rest.size() == 1) return FitType(b, rest[0], type);
  for (ir::Variable*& in : rest) in = b.Cast(in, type.dtype);
  return FitType(b, b.Apply(node.op, rest, node.attrs), type);
}

}  // namespace tensord::passes
