#include "engine/passes/specialize.h"

#include <unordered_map>

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

// x * x -> sqr(x), every pair at once: mul(a, x, x, x) -> mul(a, sqr(x), x). The fixpoint then
// pairs the squares (sqr(sqr(x))), so a product of n equal factors takes O(log n) rewrites, each
// linear in the inputs (pairing one at a time was cubic on long chains).
ir::Variable* MulSelf(RuleContext& b, const ir::Apply& n) {
  const DType d = n.outputs[0]->type.dtype;
  if (d == DType::kBool) return nullptr;
  std::unordered_map<const ir::Variable*, int> count;
  bool repeated = false;
  for (const ir::Variable* in : n.inputs) repeated |= ++count[in] == 2;
  if (!repeated) return nullptr;
  std::vector<ir::Variable*> factors;
  for (ir::Variable* in : n.inputs) {
    int& m = count[in];
    if (m == 0) continue;  // emitted at its first appearance
    ir::Variable* x = b.Cast(in, d);
    if (m >= 2) factors.insert(factors.end(), m / 2, b.Apply("sqr", {x}));
    if (m % 2 == 1) factors.push_back(x);
    m = 0;
  }
  if (factors.size() == 1) return factors[0];
  return b.Apply("mul", factors, n.attrs);
}

}  // namespace

std::unique_ptr<Pass> MakeSpecializePass() {
  return std::make_unique<RuleSet>(
      "specialize", std::vector<Rule>{{"pow", "pow(x, k) -> sqr/mul/true_div", PowByConstant},
                                      {"mul", "mul(x, x) -> sqr(x)", MulSelf}});
}

}  // namespace tensord::passes
