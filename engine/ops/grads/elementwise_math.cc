// Grad rules of the elementwise arithmetic beyond the basics (abs, sqr, sqrt, maximum, minimum,
// clip, switch, int_div, mod and the roundings), in Theano 1.0's forms.
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using Grads = std::vector<Variable*>;
using OutGrads = std::span<Variable* const>;

// The roundings, sgn and int_div are piecewise constant: Theano gives every input a zero
// gradient (connected, so asking for it is no error), in the gradient's float dtype.
Grads ZeroGrads(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Grads out;
  for (Variable* in : node.inputs) out.push_back(b.ZerosLike(in, gz[0]->type.dtype));
  return out;
}

Grads AbsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Mul(gz[0], b.Apply("sgn", {node.inputs[0]}))};
}

Grads SqrGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  return {b.Mul(b.Mul(gz[0], x), b.ConstantLike(2, x))};
}

// Theano's gz * 0.5 / sqrt(x), reusing the node's output for sqrt(x).
Grads SqrtGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Div(b.Mul(gz[0], b.ConstantLike(0.5, gz[0])), node.outputs[0])};
}

// Theano's Maximum/Minimum.L_op: e = eq(out, x); gx = e * gz; gy = (1 - e) * gz. On a tie
// the whole gradient goes to the first input.
Grads MaxMinGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* e = b.Apply("eq", {node.outputs[0], node.inputs[0]});
  Variable* gx = b.Mul(e, gz[0]);
  Variable* gy = b.Mul(b.Sub(b.ConstantLike(1, gz[0]), e), gz[0]);
  return b.SumToInputs(node, {gx, gy});
}

// Theano's Clip.L_op: x gets gz where lo <= x <= hi, each bound where it clipped x.
Grads ClipGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* lo = node.inputs[1];
  Variable* hi = node.inputs[2];
  Variable* inside = b.Apply("and", {b.Apply("ge", {x, lo}), b.Apply("le", {x, hi})});
  return b.SumToInputs(node, {b.Mul(inside, gz[0]), b.Mul(b.Apply("lt", {x, lo}), gz[0]),
                              b.Mul(b.Apply("gt", {x, hi}), gz[0])});
}

// Each branch gets gz where it was taken. The condition gets none: Theano assumes a small
// change of it never flips a branch (its gradient is zero).
Grads SwitchGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* c = node.inputs[0];
  Variable* zero = b.ConstantLike(0, gz[0]);
  return b.SumToInputs(node, {nullptr, b.Switch(c, gz[0], zero), b.Switch(c, zero, gz[0])});
}

// x % y = x - (x // y) * y, with x // y piecewise constant (Theano's Mod.L_op).
Grads ModGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* y = node.inputs[1];
  Variable* gy = b.Mul(b.Neg(b.Apply("int_div", {x, y})), gz[0]);
  return b.SumToInputs(node, {gz[0], gy});
}

}  // namespace

void AttachElementwiseMathGrads(Registry& r) {
  for (const char* op : {"int_div", "sgn", "floor", "ceil", "trunc", "round_half_to_even",
                         "round_half_away_from_zero"})
    r.SetGrad(op, ZeroGrads);
  r.SetGrad("abs", AbsGrad);
  r.SetGrad("sqr", SqrGrad);
  r.SetGrad("sqrt", SqrtGrad);
  r.SetGrad("maximum", MaxMinGrad);
  r.SetGrad("minimum", MaxMinGrad);
  r.SetGrad("clip", ClipGrad);
  r.SetGrad("switch", SwitchGrad);
  r.SetGrad("mod", ModGrad);
}

}  // namespace tensord::ops
