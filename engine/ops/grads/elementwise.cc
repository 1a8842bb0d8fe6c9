// Grad rules of the elementwise arithmetic (add, sub, mul, true_div, pow, neg, exp, log), in
// Theano's forms so printed gradients read the same.
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using Grads = std::vector<Variable*>;
using OutGrads = std::span<Variable* const>;

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

}  // namespace

void AttachElementwiseGrads(Registry& r) {
  r.SetGrad("add", AddGrad);
  r.SetGrad("sub", SubGrad);
  r.SetGrad("mul", MulGrad);
  r.SetGrad("true_div", TrueDivGrad);
  r.SetGrad("pow", PowGrad);
  r.SetGrad("neg",
            [](NodeBuilder& b, const ir::Apply&, OutGrads gz) { return Grads{b.Neg(gz[0])}; });
  // exp's derivative is its own output: reuse it instead of recomputing exp(x).
  r.SetGrad("exp", [](NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
    return Grads{b.Mul(gz[0], node.outputs[0])};
  });
  r.SetGrad("log", [](NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
    return Grads{b.Div(gz[0], node.inputs[0])};
  });
}

}  // namespace tensord::ops
