#include "engine/passes/specialize.h"

#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

ir::Variable* PowByConstant(RuleContext& b, const ir::Apply& n) {
  std::optional<double> k = UniformUnitConstant(n.inputs[1]);
  const DType d = n.outputs[0]->type.dtype;
  if (!k.has_value() || d == DType::kBool) return nullptr;
  // The kernel raises x cast to the output dtype; so do the replacements.
  ir::Variable* x = b.Cast(n.inputs[0], d);
  if (*k == 1) return x;
  if (*k == 2) return b.Apply("sqr", {x});
  if (*k == 3) return b.Mul(b.Apply("sqr", {x}), x);
  if (*k == 4) return b.Apply("sqr", {b.Apply("sqr", {x})});
  if (*k == 0) return b.Fill(x, b.Constant(1, d));
  // Integer powers with negative exponents truncate; only floats have a reciprocal.
  if (!IsFloat(d)) return nullptr;
  if (*k == -1) return b.Div(b.Constant(1, d), x);
  if (*k == -2) return b.Div(b.Constant(1, d), b.Apply("sqr", {x}));
  return nullptr;
}

// x * x -> sqr(x), also inside an n-ary mul: mul(a, x, x) -> mul(a, sqr(x)).
ir::Variable* MulSelf(RuleContext& b, const ir::Apply& n) {
  const DType d = n.outputs[0]->type.dtype;
  if (d == DType::kBool) return nullptr;
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    for (size_t j = i + 1; j < n.inputs.size(); ++j) {
      if (n.inputs[i] != n.inputs[j]) continue;
      ir::Variable* sq = b.Apply("sqr", {b.Cast(n.inputs[i], d)});
      if (n.inputs.size() == 2) return sq;
      std::vector<ir::Variable*> rest;
      for (size_t k = 0; k < n.inputs.size(); ++k)
        if (k != i && k != j) rest.push_back(b.Cast(n.inputs[k], d));
      rest.push_back(sq);
      return b.Apply("mul", rest, n.attrs);
    }
  }
  return nullptr;
}

}  // namespace

std::unique_ptr<Pass> MakeSpecializePass() {
  return std::make_unique<RuleSet>(
      "specialize", std::vector<Rule>{{"pow", "pow(x, k) -> sqr/mul/true_div", PowByConstant},
                                      {"mul", "mul(x, x) -> sqr(x)", MulSelf}});
}

}  // namespace tensord::passes
