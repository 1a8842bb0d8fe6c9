#include "engine/passes/stabilize.h"

#include <algorithm>

#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

bool FloatOut(const ir::Apply& n) { return IsFloat(n.outputs[0]->type.dtype); }

// A float node `op` producing v, or null.
const ir::Apply* FloatProducer(const ir::Variable* v, const std::string& op) {
  const ir::Apply* a = ProducedBy(v, op);
  return a != nullptr && FloatOut(*a) ? a : nullptr;
}

// sub(1, y) -> y (fitted to the sub's type), else null.
ir::Variable* OneMinus(RuleContext& b, const ir::Variable* v) {
  const ir::Apply* s = FloatProducer(v, "sub");
  if (s == nullptr || !IsUnitConstant(s->inputs[0], 1)) return nullptr;
  return ApplyWithout(b, *s, 0);
}

// -softplus(x) in x's dtype.
ir::Variable* NegSoftplus(RuleContext& b, ir::Variable* x) {
  return x == nullptr ? nullptr : b.Neg(b.Apply("softplus", {x}));
}

// exp(a) / b, the shape of tensord.nnet.softmax.
const ir::Apply* ExpOverSomething(const ir::Variable* v) {
  const ir::Apply* d = FloatProducer(v, "true_div");
  return d != nullptr && ProducedBy(d->inputs[0], "exp") != nullptr ? d : nullptr;
}

// x already shifted by its max (x - max(x), possibly through a dimshuffle or the inf guard this
// pass adds): log-sum-exp must not shift it again and again.
bool ShiftedByMax(const ir::Variable* x) {
  const ir::Apply* s = ProducedBy(x, "sub");
  if (s == nullptr) return false;
  const ir::Variable* m = s->inputs[1];
  if (const ir::Apply* d = ProducedBy(m, "dimshuffle")) m = d->inputs[0];
  return ProducedBy(m, "max") != nullptr || ProducedBy(m, "switch") != nullptr;
}

ir::Variable* LogSumExp(RuleContext& b, const ir::Apply& n) {
  const ir::Apply* sum = FloatProducer(n.inputs[0], "sum");
  if (sum == nullptr) return nullptr;
  const ir::Apply* e = ProducedBy(sum->inputs[0], "exp");
  if (e == nullptr) return nullptr;
  ir::Variable* x = e->inputs[0];
  const DType d = sum->outputs[0]->type.dtype;
  if (x->type.dtype != d || e->outputs[0]->type.dtype != d || ShiftedByMax(x)) return nullptr;
  const int ndim = x->type.ndim();
  std::vector<int64_t> axes;
  ir::Attrs max_attrs;
  if (auto it = sum->attrs.find("axis"); it != sum->attrs.end()) {
    auto listed = ir::GetIntsAttr(*sum, "axis");
    if (!listed.ok()) return nullptr;
    for (int64_t a : *listed) axes.push_back(a < 0 ? a + ndim : a);
    max_attrs["axis"] = *listed;
  } else {
    for (int i = 0; i < ndim; ++i) axes.push_back(i);
  }
  if (axes.empty()) return nullptr;
  std::sort(axes.begin(), axes.end());
  ir::Variable* m = b.Apply("max", {x}, max_attrs);
  // An infinite max would make x - m NaN; scipy's logsumexp shifts by 0 there instead.
  m = b.Switch(b.Apply("isinf", {m}), b.Constant(0, d), m);
  ir::Variable* shifted = b.Sub(x, b.ExpandDims(m, axes, ndim));
  ir::Variable* inner = b.Apply("sum", {b.Apply("exp", {shifted})}, sum->attrs);
  return b.Add(m, b.Apply("log", {inner}));
}

std::vector<Rule> Rules() {
  std::vector<Rule> rules = {
      // log(sigmoid(x)) -> -softplus(-x)
      {"log", "log(sigmoid(x)) -> -softplus(-x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* sg = FloatProducer(n.inputs[0], "sigmoid");
         if (sg == nullptr) return nullptr;
         ir::Variable* x = b.Cast(sg->inputs[0], sg->outputs[0]->type.dtype);
         return NegSoftplus(b, b.Neg(x));
       }},
      // log(1 - sigmoid(x)) -> -softplus(x)
      {"log", "log(1 - sigmoid(x)) -> -softplus(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* s = FloatProducer(n.inputs[0], "sub");
         if (s == nullptr || !IsUnitConstant(s->inputs[0], 1)) return nullptr;
         const ir::Apply* sg = ProducedBy(s->inputs[1], "sigmoid");
         if (sg == nullptr) return nullptr;
         ir::Variable* x = b.Cast(sg->inputs[0], s->outputs[0]->type.dtype);
         return NegSoftplus(b, x);
       }},
      // log(1 + x) -> log1p(x)
      {"log", "log(1 + x) -> log1p(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* a = FloatProducer(n.inputs[0], "add");
         if (a == nullptr) return nullptr;
         for (size_t i = 0; i < a->inputs.size(); ++i) {
           if (!IsUnitConstant(a->inputs[i], 1)) continue;
           ir::Variable* x = ApplyWithout(b, *a, i);
           return x == nullptr ? nullptr : b.Apply("log1p", {x});
         }
         return nullptr;
       }},
      // log(1 - x) -> log1p(-x)
      {"log", "log(1 - x) -> log1p(-x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         ir::Variable* x = OneMinus(b, n.inputs[0]);
         return x == nullptr ? nullptr : b.Apply("log1p", {b.Neg(x)});
       }},
      // log(exp(a) / b) -> a - log(b)
      {"log", "log(exp(a) / b) -> a - log(b)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* d = ExpOverSomething(n.inputs[0]);
         if (d == nullptr) return nullptr;
         const DType dt = d->outputs[0]->type.dtype;
         ir::Variable* a = b.Cast(d->inputs[0]->owner->inputs[0], dt);
         return b.Sub(a, b.Apply("log", {b.Cast(d->inputs[1], dt)}));
       }},
      {"log", "log(sum(exp(x))) -> max + log(sum(exp(x - max)))", LogSumExp},
      // log1p(-sigmoid(x)) -> -softplus(x)
      {"log1p", "log1p(-sigmoid(x)) -> -softplus(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* ng = ProducedBy(n.inputs[0], "neg");
         const ir::Apply* sg = ng ? FloatProducer(ng->inputs[0], "sigmoid") : nullptr;
         if (sg == nullptr) return nullptr;
         return NegSoftplus(b, b.Cast(sg->inputs[0], sg->outputs[0]->type.dtype));
       }},
      // exp(x) - 1 -> expm1(x)
      {"sub", "exp(x) - 1 -> expm1(x)",
       [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
         const ir::Apply* e = ProducedBy(n.inputs[0], "exp");
         if (e == nullptr || !FloatOut(n) || !IsUnitConstant(n.inputs[1], 1)) return nullptr;
         return b.Apply("expm1", {b.Cast(e->inputs[0], n.outputs[0]->type.dtype)});
       }},
  };
  // log(softmax[idx]) -> log_softmax[idx]: the log moves inside the indexing, where the rule
  // above makes it stable.
  for (const char* op : {"subtensor", "advanced_subtensor", "advanced_subtensor1"}) {
    rules.push_back({"log", std::string("log(") + op + "(exp(a) / b)) -> " + op + "(log(...))",
                     [op](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
                       const ir::Apply* s = ProducedBy(n.inputs[0], op);
                       if (s == nullptr || ExpOverSomething(s->inputs[0]) == nullptr)
                         return nullptr;
                       std::vector<ir::Variable*> inputs = s->inputs;
                       inputs[0] = b.Apply("log", {inputs[0]});
                       return b.Apply(op, inputs, s->attrs);
                     }});
  }
  return rules;
}

}  // namespace

std::unique_ptr<Pass> MakeStabilizePass() {
  return std::make_unique<RuleSet>("stabilize", Rules());
}

}  // namespace tensord::passes
