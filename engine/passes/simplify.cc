#include "engine/passes/simplify.h"

#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

// Drops the first input that is the constant `identity` (0 for add, 1 for mul).
RuleFn DropIdentity(double identity) {
  return [identity](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
    for (size_t i = 0; i < n.inputs.size(); ++i)
      if (IsUnitConstant(n.inputs[i], identity)) return ApplyWithout(b, n, i);
    return nullptr;
  };
}

// x for f(g(x)) where g is `inner`: exp(log x), log(exp x), neg(neg x).
RuleFn Inverse(std::string inner) {
  return [inner](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
    const ir::Apply* g = ProducedBy(n.inputs[0], inner);
    return g == nullptr ? nullptr : FitType(b, g->inputs[0], n.outputs[0]->type);
  };
}

// True when `g` has exactly the shape of `x` whatever the run-time shapes: g is x, or an
// elementwise function of x and 0-d values (bounded depth: this is a cheap proof, not a search).
bool SameShape(const ir::Variable* g, const ir::Variable* x, int depth = 4) {
  if (g == x) return true;
  if (depth == 0 || g->owner == nullptr || !IsElementwise(g->owner->op)) return false;
  bool has_x = false;
  for (const ir::Variable* in : g->owner->inputs) {
    if (in->type.ndim() == 0 && x->type.ndim() >= 0) continue;
    if (!SameShape(in, x, depth - 1)) return false;
    has_x = true;
  }
  return has_x || x->type.ndim() == 0;
}

// The reduction's axis list when it is given and empty (a reduction over nothing).
bool ReducesNothing(const ir::Apply& n) {
  auto it = n.attrs.find("axis");
  if (it == n.attrs.end()) return n.inputs[0]->type.ndim() == 0;
  const auto* axes = std::get_if<std::vector<int64_t>>(&it->second);
  return axes != nullptr && axes->empty();
}

ir::Variable* Identity(RuleContext& b, const ir::Apply& n) {
  return FitType(b, n.inputs[0], n.outputs[0]->type);
}

std::vector<Rule> Rules() {
  std::vector<Rule> rules = {
      {"add", "add(x, 0) -> x", DropIdentity(0)},
      {"mul", "mul(x, 1) -> x", DropIdentity(1)},
      // x - 0 -> x
      {"sub", "sub(x, 0) -> x",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         return IsUnitConstant(n.inputs[1], 0) ? ApplyWithout(b, n, 1) : nullptr;
       }},
      // x - x -> zeros_like(x)
      {"sub", "sub(x, x) -> fill(x, 0)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (n.inputs[0] != n.inputs[1]) return nullptr;
         return b.Fill(n.inputs[0], b.Constant(0, n.outputs[0]->type.dtype));
       }},
      // 0 - x -> -x
      {"sub", "sub(0, x) -> neg(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (!IsUnitConstant(n.inputs[0], 0)) return nullptr;
         ir::Variable* x = ApplyWithout(b, n, 0);
         return x == nullptr ? nullptr : b.Neg(x);
       }},
      // x / 1 -> x
      {"true_div", "true_div(x, 1) -> x",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         return IsUnitConstant(n.inputs[1], 1) ? ApplyWithout(b, n, 1) : nullptr;
       }},
      {"exp", "exp(log(x)) -> x", Inverse("log")},
      {"log", "log(exp(x)) -> x", Inverse("exp")},
      {"neg", "neg(neg(x)) -> x", Inverse("neg")},
      // dimshuffle(dimshuffle(x, a), b) -> dimshuffle(x, a[b]); an identity order -> x
      {"dimshuffle", "dimshuffle(dimshuffle(x)) -> dimshuffle(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* inner = ProducedBy(n.inputs[0], "dimshuffle");
         if (inner == nullptr) return nullptr;
         auto outer_order = ir::GetIntsAttr(n, "new_order");
         auto inner_order = ir::GetIntsAttr(*inner, "new_order");
         if (!outer_order.ok() || !inner_order.ok()) return nullptr;
         std::vector<int64_t> order;
         for (int64_t o : *outer_order) order.push_back(o < 0 ? -1 : (*inner_order)[o]);
         return b.Dimshuffle(inner->inputs[0], order);
       }},
      {"dimshuffle", "dimshuffle(x, identity) -> x",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         auto order = ir::GetIntsAttr(n, "new_order");
         if (!order.ok() || static_cast<int>(order->size()) != n.inputs[0]->type.ndim())
           return nullptr;
         for (size_t i = 0; i < order->size(); ++i)
           if ((*order)[i] != static_cast<int64_t>(i)) return nullptr;
         return n.inputs[0];
       }},
      // reshape(reshape(x, s1), s2) -> reshape(x, s2)
      {"reshape", "reshape(reshape(x)) -> reshape(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* inner = ProducedBy(n.inputs[0], "reshape");
         if (inner == nullptr) return nullptr;
         return b.Apply("reshape", {inner->inputs[0], n.inputs[1]}, n.attrs);
       }},
      {"cast", "cast(x) to x's dtype -> x",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         return n.inputs[0]->type.dtype == n.outputs[0]->type.dtype ? n.inputs[0] : nullptr;
       }},
      // cast(cast(x, a), b) -> cast(x, b) when x -> a loses nothing. Not from a float a to an
      // integer b: out-of-range float -> int conversions need not wrap like int -> int ones.
      {"cast", "cast(cast(x)) -> cast(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* inner = ProducedBy(n.inputs[0], "cast");
         const DType mid = n.inputs[0]->type.dtype;
         if (inner == nullptr || !CanCastSafely(inner->inputs[0]->type.dtype, mid) ||
             (IsFloat(mid) && IsInteger(n.outputs[0]->type.dtype)))
           return nullptr;
         return b.Cast(inner->inputs[0], n.outputs[0]->type.dtype);
       }},
      // sum_to_like(g, x) -> g when g provably has x's shape (nothing was broadcast)
      {"sum_to_like", "sum_to_like(g, x) -> g",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (!SameShape(n.inputs[0], n.inputs[1])) return nullptr;
         return FitType(b, n.inputs[0], n.outputs[0]->type);
       }},
      {"zero_grad", "zero_grad(x) -> x", Identity},
      {"disconnected_grad", "disconnected_grad(x) -> x", Identity},
      {"grad_clip", "grad_clip(x, lo, hi) -> x", Identity},
  };
  for (const char* op : {"sum", "prod", "max", "min", "mean", "all", "any"}) {
    rules.push_back({op, std::string(op) + "(x, axis=()) -> x",
                     [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
                       return ReducesNothing(n) ? Identity(b, n) : nullptr;
                     }});
  }
  // f(fill(m, v), m, ...) -> f(v, m, ...): the fill's broadcast to m's shape is implied by f's
  // own broadcasting (the fill's shape is broadcast(m, v), and m is already an input of f).
  for (const std::string& op : ElementwiseOps()) {
    if (op == "fill") continue;
    rules.push_back({op, op + "(fill(m, v), m) -> " + op + "(v, m)",
                     [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
                       for (size_t i = 0; i < n.inputs.size(); ++i) {
                         const ir::Apply* fill = ProducedBy(n.inputs[i], "fill");
                         if (fill == nullptr) continue;
                         bool model_is_input = false;
                         for (size_t j = 0; j < n.inputs.size(); ++j)
                           model_is_input |= j != i && n.inputs[j] == fill->inputs[0];
                         if (!model_is_input) continue;
                         std::vector<ir::Variable*> inputs = n.inputs;
                         inputs[i] = fill->inputs[1];
                         return b.Apply(n.op, inputs, n.attrs);
                       }
                       return nullptr;
                     }});
  }
  // fill(m, v) -> v when v already has m's shape
  rules.push_back(
      {"fill", "fill(m, v) -> v", [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         if (!SameShape(n.inputs[1], n.inputs[0]) &&
             !(n.inputs[0]->type.ndim() == 0 && n.inputs[1]->type.ndim() == 0))
           return nullptr;
         return FitType(b, n.inputs[1], n.outputs[0]->type);
       }});
  return rules;
}

}  // namespace

std::unique_ptr<Pass> MakeSimplifyPass() { return std::make_unique<RuleSet>("simplify", Rules()); }

}  // namespace tensord::passes
