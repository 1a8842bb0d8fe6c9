#include "engine/passes/canonicalize.h"

#include <algorithm>
#include <unordered_map>

#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

// First-appearance order of variables: graph inputs, then each node's inputs and outputs in
// topological order. Variables created while the pass runs are numbered when first asked.
class Positions {
 public:
  void Reset(const ir::Graph& g) {
    pos_.clear();
    for (const ir::Variable* v : g.inputs()) Of(v);
    for (const auto& a : g.applies()) {
      for (const ir::Variable* v : a->inputs) Of(v);
      for (const ir::Variable* v : a->outputs) Of(v);
    }
  }
  int64_t Of(const ir::Variable* v) {
    auto [it, inserted] = pos_.emplace(v, static_cast<int64_t>(pos_.size()));
    return it->second;
  }

 private:
  std::unordered_map<const ir::Variable*, int64_t> pos_;
};

// True when the node's consumer will flatten it in (the consumer's Flatten takes it whole).
bool AbsorbedByConsumer(const RuleContext& b, const ir::Apply& node) {
  const ir::Apply* consumer = b.SoleConsumer(node.outputs[0]);
  return consumer != nullptr && consumer->op == node.op &&
         consumer->outputs[0]->type.dtype == node.outputs[0]->type.dtype;
}

// add(add(a, b), c) -> add(a, b, c), when the inner node computes in the same dtype and has no
// other consumer (else the flattened node would recompute it). The outermost node of a nest
// flattens all of it at once; an inner node leaves itself to its consumer, since flattening
// each level of a long chain in turn copies the inputs gathered so far each time (quadratic).
ir::Variable* Flatten(RuleContext& b, const ir::Apply& node) {
  const DType dtype = node.outputs[0]->type.dtype;
  auto absorbable = [&](const ir::Variable* v) {
    const ir::Apply* inner = ProducedBy(v, node.op);
    return inner != nullptr && v->type.dtype == dtype && b.Uses(v) == 1 ? inner : nullptr;
  };
  if (AbsorbedByConsumer(b, node)) return nullptr;
  std::vector<ir::Variable*> inputs;
  bool flattened = false;
  // Depth first, left to right; a stack rather than recursion, as a chain may be 100k deep.
  std::vector<ir::Variable*> pending(node.inputs.rbegin(), node.inputs.rend());
  while (!pending.empty()) {
    ir::Variable* in = pending.back();
    pending.pop_back();
    if (const ir::Apply* inner = absorbable(in)) {
      pending.insert(pending.end(), inner->inputs.rbegin(), inner->inputs.rend());
      flattened = true;
    } else {
      inputs.push_back(in);
    }
  }
  if (!flattened) return nullptr;
  return b.Apply(node.op, inputs, node.attrs);
}

ir::Variable* SortInputs(Positions& pos, RuleContext& b, const ir::Apply& node) {
  if (AbsorbedByConsumer(b, node)) return nullptr;  // sorted once, after flattening
  auto key = [&](const ir::Variable* v) {
    return std::make_pair(v->source == ir::Source::kConstant, pos.Of(v));
  };
  std::vector<ir::Variable*> inputs = node.inputs;
  std::stable_sort(inputs.begin(), inputs.end(), [&](auto* x, auto* y) { return key(x) < key(y); });
  if (inputs == node.inputs) return nullptr;
  return b.Apply(node.op, inputs, node.attrs);
}

// x for v = neg(x) computed in `dtype` (a neg in a narrower integer dtype may have wrapped:
// -(-128) is -128 in int8, so it cannot be moved into a wider operation).
ir::Variable* NegatedInput(const ir::Variable* v, DType dtype) {
  const ir::Apply* neg = ProducedBy(v, "neg");
  if (neg == nullptr || v->type.dtype != dtype) return nullptr;
  return neg->inputs[0];
}

std::vector<Rule> Rules(std::shared_ptr<Positions> pos) {
  auto sort = [pos](RuleContext& b, const ir::Apply& n) { return SortInputs(*pos, b, n); };
  return {
      {"add", "add(add(a, b), c) -> add(a, b, c)", Flatten},
      {"mul", "mul(mul(a, b), c) -> mul(a, b, c)", Flatten},
      // x + -y -> x - y  (and -x + y -> y - x)
      {"add", "add(x, neg(y)) -> sub(x, y)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (n.inputs.size() != 2) return nullptr;
         const DType d = n.outputs[0]->type.dtype;
         for (int i = 1; i >= 0; --i) {
           ir::Variable* y = NegatedInput(n.inputs[i], d);
           if (y == nullptr) continue;
           return b.Sub(b.Cast(n.inputs[1 - i], d), b.Cast(y, d));
         }
         return nullptr;
       }},
      {"add", "sort add inputs", sort},
      {"mul", "sort mul inputs", sort},
      // x * -1 -> -x
      {"mul", "mul(x, -1) -> neg(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         for (size_t i = 0; i < n.inputs.size(); ++i) {
           if (!IsUnitConstant(n.inputs[i], -1)) continue;
           ir::Variable* rest = ApplyWithout(b, n, i);
           return rest == nullptr ? nullptr : b.Neg(rest);
         }
         return nullptr;
       }},
      // -x * -y -> x * y
      {"mul", "mul(neg(x), neg(y)) -> mul(x, y)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (n.inputs.size() != 2) return nullptr;
         const DType d = n.outputs[0]->type.dtype;
         ir::Variable* x = NegatedInput(n.inputs[0], d);
         ir::Variable* y = NegatedInput(n.inputs[1], d);
         if (x == nullptr || y == nullptr) return nullptr;
         return b.Mul(b.Cast(x, d), b.Cast(y, d));
       }},
      // x - -y -> x + y
      {"sub", "sub(x, neg(y)) -> add(x, y)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const DType d = n.outputs[0]->type.dtype;
         ir::Variable* y = NegatedInput(n.inputs[1], d);
         if (y == nullptr) return nullptr;
         return b.Add(b.Cast(n.inputs[0], d), b.Cast(y, d));
       }},
      // -(x - y) -> y - x
      {"neg", "neg(sub(x, y)) -> sub(y, x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* sub = ProducedBy(n.inputs[0], "sub");
         if (sub == nullptr || b.Uses(n.inputs[0]) != 1) return nullptr;
         const DType d = n.outputs[0]->type.dtype;
         return b.Sub(b.Cast(sub->inputs[1], d), b.Cast(sub->inputs[0], d));
       }},
      // -x / -y -> x / y
      {"true_div", "true_div(neg(x), neg(y)) -> true_div(x, y)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         // Only floats: an integer neg may have wrapped before the division casts it.
         if (!IsFloat(n.inputs[0]->type.dtype) || !IsFloat(n.inputs[1]->type.dtype)) return nullptr;
         ir::Variable* x = NegatedInput(n.inputs[0], n.inputs[0]->type.dtype);
         ir::Variable* y = NegatedInput(n.inputs[1], n.inputs[1]->type.dtype);
         if (x == nullptr || y == nullptr) return nullptr;
         return b.Div(x, y);
       }},
  };
}

class CanonicalizePass final : public Pass {
 public:
  CanonicalizePass() : pos_(std::make_shared<Positions>()), rules_("canonicalize", Rules(pos_)) {}
  std::string name() const override { return rules_.name(); }
  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    pos_->Reset(graph);
    return rules_.Run(graph);
  }

 private:
  std::shared_ptr<Positions> pos_;
  RuleSet rules_;
};

}  // namespace

std::unique_ptr<Pass> MakeCanonicalizePass() { return std::make_unique<CanonicalizePass>(); }

}  // namespace tensord::passes
