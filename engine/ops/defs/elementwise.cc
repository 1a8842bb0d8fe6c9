// Elementwise arithmetic: add, sub, mul, true_div, pow, neg, exp, log, each declared with its
// grad rule.
#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/arithmetic.h"

namespace tensord::ops {
namespace {

// ---- grad rules, in Theano's forms so printed gradients read the same ----

using ir::Variable;

Grads AddGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return b.SumToInputs(node, Grads(node.inputs.size(), gz[0]));
}

Grads SubGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return b.SumToInputs(node, {gz[0], b.Neg(gz[0])});
}

// d(x0 * x1 * ...)/dxi = gz * (product of the others).
Grads MulGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Grads out;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    std::vector<Variable*> others;
    for (size_t k = 0; k < node.inputs.size(); ++k)
      if (k != i) others.push_back(node.inputs[k]);
    Variable* rest = others.size() == 1 ? others[0] : b.Apply("mul", others);
    out.push_back(b.Mul(gz[0], rest));
  }
  return b.SumToInputs(node, std::move(out));
}

Grads TrueDivGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* y = node.inputs[1];
  return b.SumToInputs(node, {b.Div(gz[0], y), b.Div(b.Neg(b.Mul(gz[0], x)), b.Mul(y, y))});
}

// d(x**y)/dx = y * x**(y-1); d(x**y)/dy = log(x) * x**y, taken as 0 where x == 0 (Theano).
Grads PowGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* y = node.inputs[1];
  Variable* one = b.Constant(1, y->type.dtype);
  Variable* gx = b.Mul(b.Mul(gz[0], y), b.Apply("pow", {x, b.Sub(y, one)}));
  Grads out{gx, nullptr};
  if (IsFloat(y->type.dtype)) {
    Variable* gy = b.Mul(b.Mul(gz[0], b.Apply("log", {x})), node.outputs[0]);
    Variable* x_is_zero = b.Apply("eq", {x, b.Constant(0, x->type.dtype)});
    out[1] = b.Switch(x_is_zero, b.ZerosLike(gy), gy);
  }
  return b.SumToInputs(node, std::move(out));
}

Grads NegGrad(NodeBuilder& b, const ir::Apply&, OutGrads gz) { return {b.Neg(gz[0])}; }

// exp's derivative is its own output: reuse it instead of recomputing exp(x).
Grads ExpGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Mul(gz[0], node.outputs[0])};
}

Grads LogGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Div(gz[0], node.inputs[0])};
}

}  // namespace

void RegisterElementwise(Registry& r) {
  const ElementwiseTyping upcast{ElemDTypeRule::kUpcast};
  const ElementwiseTyping no_bool{ElemDTypeRule::kUpcastNoBool};
  const ElementwiseTyping to_float{ElemDTypeRule::kUpgradeToFloat};
  r.Add(Elementwise<scalar::Add, 2>({.name = "add",
                                     .min_inputs = 2,
                                     .max_inputs = -1,
                                     .doc = "add(a, b, ...) -> a + b + ... (numpy.add)",
                                     .typing = upcast,
                                     .theano = {"add", "Add"},
                                     .tags = kTagCommutative,
                                     .opcode = 1,
                                     .format = "($0 + $1)",
                                     .grad = AddGrad}));
  r.Add(Elementwise<scalar::Mul, 2>({.name = "mul",
                                     .min_inputs = 2,
                                     .max_inputs = -1,
                                     .doc = "mul(a, b, ...) -> a * b * ... (numpy.multiply)",
                                     .typing = upcast,
                                     .theano = {"mul", "Mul"},
                                     .tags = kTagCommutative,
                                     .opcode = 3,
                                     .format = "($0 * $1)",
                                     .grad = MulGrad}));
  r.Add(Elementwise<scalar::Sub, 2>({.name = "sub",
                                     .min_inputs = 2,
                                     .max_inputs = 2,
                                     .doc = "sub(a, b) -> a - b (numpy.subtract)",
                                     .typing = no_bool,
                                     .theano = {"sub", "Sub"},
                                     .opcode = 2,
                                     .format = "($0 - $1)",
                                     .grad = SubGrad}));
  r.Add(Elementwise<scalar::TrueDiv, 2>({.name = "true_div",
                                         .min_inputs = 2,
                                         .max_inputs = 2,
                                         .doc = "true_div(a, b) -> a / b (numpy.true_divide)",
                                         .typing = to_float,
                                         .theano = {"true_div", "TrueDiv"},
                                         .opcode = 4,
                                         .format = "($0 / $1)",
                                         .grad = TrueDivGrad}));
  r.Add(Elementwise<scalar::Pow, 2>({.name = "pow",
                                     .min_inputs = 2,
                                     .max_inputs = 2,
                                     .doc = "pow(a, b) -> a ** b (numpy.power)",
                                     .typing = upcast,
                                     .theano = {"pow", "Pow"},
                                     .opcode = 5,
                                     .format = "pow($0, $1)",
                                     .grad = PowGrad}));
  r.Add(Elementwise<scalar::Neg, 1>({.name = "neg",
                                     .doc = "neg(a) -> -a (numpy.negative)",
                                     .typing = no_bool,
                                     .theano = {"neg", "Neg"},
                                     .opcode = 6,
                                     .format = "(-$0)",
                                     .grad = NegGrad}));
  r.Add(Elementwise<scalar::Exp, 1>({.name = "exp",
                                     .doc = "exp(a) (numpy.exp)",
                                     .typing = to_float,
                                     .theano = {"exp", "Exp"},
                                     .opcode = 7,
                                     .format = "exp($0)",
                                     .grad = ExpGrad}));
  r.Add(Elementwise<scalar::Log, 1>({.name = "log",
                                     .doc = "log(a) (numpy.log)",
                                     .typing = to_float,
                                     .theano = {"log", "Log"},
                                     .opcode = 8,
                                     .format = "log($0)",
                                     .grad = LogGrad}));
}

}  // namespace tensord::ops
