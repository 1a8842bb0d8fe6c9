#include "engine/passes/shape_of.h"

#include "engine/ops/op_def.h"
#include "engine/passes/rule_set.h"

namespace tensord::passes {
namespace {

// The declared output shapes of `v`'s producer, its inputs' shapes given as shape_i nodes (1 for
// a broadcastable dim); empty when the op has no rule or the rule does not know this node.
ops::SymbolicShape RuleShape(RuleContext& b, const ir::Variable* v) {
  const ir::Apply* node = v->owner;
  if (node == nullptr || node->def == nullptr || !node->def->infer_shape) return {};
  std::vector<ops::SymbolicShape> inputs;
  for (ir::Variable* in : node->inputs) {
    ops::SymbolicShape dims;
    for (int d = 0; d < in->type.ndim(); ++d)
      dims.push_back(in->type.broadcastable[d] ? b.Constant(1, DType::kInt64) : b.ShapeI(in, d));
    inputs.push_back(std::move(dims));
  }
  std::vector<ops::SymbolicShape> outputs = node->def->infer_shape(b, *node, inputs);
  if (outputs.size() != node->outputs.size() || !b.status().ok()) return {};
  ops::SymbolicShape shape = std::move(outputs[v->output_index]);
  if (static_cast<int>(shape.size()) != v->type.ndim()) return {};
  for (ir::Variable*& dim : shape) dim = b.Cast(dim, DType::kInt64);
  return shape;
}

std::vector<Rule> Rules() {
  return {
      {"shape_i", "shape_i(f(x); i) -> f's shape rule, dim i",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Variable* v = n.inputs[0];
         absl::StatusOr<int64_t> i = ir::GetAttr<int64_t>(n, "i");
         if (!i.ok() || *i < 0 || *i >= v->type.ndim()) return nullptr;
         if (v->type.broadcastable[*i]) return b.Constant(1, DType::kInt64);
         ops::SymbolicShape shape = RuleShape(b, v);
         return shape.empty() ? nullptr : shape[*i];
       }},
      {"shape", "shape(f(x)) -> make_vector(f's shape rule)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (n.inputs[0]->type.ndim() == 0) return nullptr;  // constant folding's
         ops::SymbolicShape shape = RuleShape(b, n.inputs[0]);
         if (shape.empty()) return nullptr;
         ir::Variable* vector = b.Apply("make_vector", shape, {{"dtype", DType::kInt64}});
         return FitType(b, vector, n.outputs[0]->type);
       }},
  };
}

}  // namespace

std::unique_ptr<Pass> MakeShapeOfPass() { return std::make_unique<RuleSet>("shape_of", Rules()); }

}  // namespace tensord::passes
