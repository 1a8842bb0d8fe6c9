#include "engine/passes/shape_of.h"

#include <unordered_map>

#include "engine/ops/op_def.h"
#include "engine/passes/rule_set.h"

namespace tensord::passes {
namespace {

// Symbolic shapes of the graph's variables, computed once each (Theano's ShapeFeature): through
// the producer's shape rule where it has one, else as shape_i nodes of the variable itself (1
// for a broadcastable dim). Memoized per pass run, so x + tanh(x) reads x's dims once and a
// chain of such nodes stays linear.
class ShapeTable {
 public:
  // The shape of `v` from its producer's rule; empty when it has none (or it does not know).
  ops::SymbolicShape RuleShape(RuleContext& b, ir::Variable* v) {
    if (!HasRule(v)) return {};
    Fill(b, v);
    const auto it = ruled_.find(v);
    return it == ruled_.end() ? ops::SymbolicShape{} : it->second;
  }

 private:
  static bool HasRule(const ir::Variable* v) {
    return v->owner != nullptr && v->owner->def != nullptr && v->owner->def->infer_shape;
  }

  // Shapes of `root` and the ancestors its rules need, iteratively (graphs may be deep).
  void Fill(RuleContext& b, ir::Variable* root) {
    std::vector<ir::Variable*> stack = {root};
    while (!stack.empty()) {
      ir::Variable* v = stack.back();
      if (shape_.count(v)) {
        stack.pop_back();
        continue;
      }
      if (!HasRule(v)) {
        shape_[v] = OwnDims(b, v);
        stack.pop_back();
        continue;
      }
      const ir::Apply& node = *v->owner;
      bool ready = true;
      for (ir::Variable* in : node.inputs) {
        if (!shape_.count(in)) {
          stack.push_back(in);
          ready = false;
        }
      }
      if (!ready) continue;
      stack.pop_back();
      std::vector<ops::SymbolicShape> inputs;
      for (ir::Variable* in : node.inputs) inputs.push_back(shape_[in]);
      std::vector<ops::SymbolicShape> outputs = node.def->infer_shape(b, node, inputs);
      for (ir::Variable* out : node.outputs) {
        ops::SymbolicShape s;
        if (outputs.size() == node.outputs.size() && b.status().ok() &&
            static_cast<int>(outputs[out->output_index].size()) == out->type.ndim()) {
          s = std::move(outputs[out->output_index]);
          for (ir::Variable*& dim : s) dim = b.Cast(dim, DType::kInt64);
          ruled_[out] = s;
        } else {
          s = OwnDims(b, out);
        }
        shape_[out] = std::move(s);
      }
    }
  }

  static ops::SymbolicShape OwnDims(RuleContext& b, ir::Variable* v) {
    ops::SymbolicShape dims;
    for (int d = 0; d < v->type.ndim(); ++d)
      dims.push_back(v->type.broadcastable[d] ? b.Constant(1, DType::kInt64) : b.ShapeI(v, d));
    return dims;
  }

  std::unordered_map<const ir::Variable*, ops::SymbolicShape> shape_;  // every visited variable
  std::unordered_map<const ir::Variable*, ops::SymbolicShape> ruled_;  // those a rule gave
};

std::vector<Rule> Rules() {
  // One table per pass, that is per compile (the pipeline makes its passes for one graph).
  auto table = std::make_shared<ShapeTable>();
  return {
      {"shape_i", "shape_i(f(x); i) -> f's shape rule, dim i",
       [table](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         ir::Variable* v = n.inputs[0];
         absl::StatusOr<int64_t> i = ir::GetAttr<int64_t>(n, "i");
         if (!i.ok() || *i < 0 || *i >= v->type.ndim()) return nullptr;
         if (v->type.broadcastable[*i]) return b.Constant(1, DType::kInt64);
         ops::SymbolicShape shape = table->RuleShape(b, v);
         return shape.empty() ? nullptr : shape[*i];
       }},
      {"shape", "shape(f(x)) -> make_vector(f's shape rule)",
       [table](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (n.inputs[0]->type.ndim() == 0) return nullptr;  // constant folding's
         ops::SymbolicShape shape = table->RuleShape(b, n.inputs[0]);
         if (shape.empty()) return nullptr;
         ir::Variable* vector = b.Apply("make_vector", shape, {{"dtype", DType::kInt64}});
         return FitType(b, vector, n.outputs[0]->type);
       }},
  };
}

}  // namespace

std::unique_ptr<Pass> MakeShapeOfPass() { return std::make_unique<RuleSet>("shape_of", Rules()); }

}  // namespace tensord::passes
