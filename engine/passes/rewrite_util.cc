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

bool ReadsOnlyTheShape(const ir::Apply& reader, size_t input) {
  return (reader.op == "sum_to_like" && input == 1) || reader.op == "shape" ||
         reader.op == "shape_i";
}

std::unordered_map<const ir::Variable*, int> CountValueUses(
    const ir::Graph& graph, const std::unordered_set<const ir::Apply*>& replaced) {
  std::unordered_map<const ir::Variable*, int> uses;
  for (const auto& a : graph.applies()) {
    if (replaced.count(a.get())) continue;
    for (size_t i = 0; i < a->inputs.size(); ++i)
      if (!ReadsOnlyTheShape(*a, i)) ++uses[a->inputs[i]];
  }
  for (const ir::Variable* out : graph.outputs()) ++uses[out];
  return uses;
}

bool DependsOn(const ir::Variable* v, const ir::Variable* target) {
  std::vector<const ir::Variable*> stack = {v};
  std::unordered_set<const ir::Variable*> seen;
  while (!stack.empty()) {
    const ir::Variable* u = stack.back();
    stack.pop_back();
    if (u == target) return true;
    if (u->owner == nullptr || !seen.insert(u).second) continue;
    for (const ir::Variable* in : u->owner->inputs) stack.push_back(in);
  }
  return false;
}

}  // namespace tensord::passes
