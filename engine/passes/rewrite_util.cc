#include "engine/passes/rewrite_util.h"

#include <unordered_set>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/op_def.h"

namespace tensord::passes {

const std::vector<std::string>& ElementwiseOps() {
  static const auto* ops = [] {
    auto* names = new std::vector<std::string>;
    for (const ops::OpDef* d : ops::Registry::Global().All())
      if (d->Has(ops::kTagElementwise)) names->push_back(d->name);
    return names;
  }();
  return *ops;
}

bool IsElementwise(const std::string& op) {
  const ops::OpDef* d = ops::Registry::Global().Find(op);
  return d != nullptr && d->Has(ops::kTagElementwise);
}

std::optional<double> UniformUnitConstant(const ir::Variable* v) {
  if (v == nullptr || v->source != ir::Source::kConstant) return std::nullopt;
  const runtime::Tensor& t = v->constant;
  for (int64_t d : t.shape())
    if (d != 1) return std::nullopt;
  if (t.raw() == nullptr) return std::nullopt;
  std::optional<double> value;
  absl::Status st = DispatchAll(t.dtype(), [&](auto tag) {
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

absl::Status RemoveReplacedNodes(ir::Graph& graph,
                                 const std::unordered_set<const ir::Apply*>& replaced) {
  std::vector<ir::Variable*> keep;
  for (const auto& a : graph.applies())
    if (!replaced.count(a.get())) keep.insert(keep.end(), a->outputs.begin(), a->outputs.end());
  TENSORD_RETURN_IF_ERROR(graph.SortTopologically());
  graph.RemoveDeadNodes(keep);
  return absl::OkStatus();
}

}  // namespace tensord::passes
