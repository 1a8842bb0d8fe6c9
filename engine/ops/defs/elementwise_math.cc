// Elementwise arithmetic beyond the basics: int_div, mod, abs, sgn, sqr, sqrt, minimum, maximum,
// clip, the two roundings, floor, ceil, trunc. Results follow NumPy's ufuncs bit for bit where
// NumPy defines them (floor division and remainder replicate npy_divmod). Each is declared with
// its grad rule.

#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/arithmetic.h"

namespace tensord::ops {
namespace {

// ---- grad rules, in Theano 1.0's forms ----

using ir::Variable;

// The roundings, sgn and int_div are piecewise constant: Theano gives every input a zero
// gradient (connected, so asking for it is no error), in the gradient's float dtype.
Grads PiecewiseConstantGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
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

// x % y = x - (x // y) * y, with x // y piecewise constant (Theano's Mod.L_op).
Grads ModGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* y = node.inputs[1];
  Variable* gy = b.Mul(b.Neg(b.Apply("int_div", {x, y})), gz[0]);
  return b.SumToInputs(node, {gz[0], gy});
}

}  // namespace

void RegisterElementwiseMath(Registry& r) {
  const ElementwiseTyping upcast{ElemDTypeRule::kUpcast};
  const ElementwiseTyping numeric{ElemDTypeRule::kUpcast, DTypeClass::kNotBool};
  const ElementwiseTyping to_float{ElemDTypeRule::kUpgradeToFloat};
  r.Add(BinaryOp<scalar::IntDiv>(
      "int_div", "int_div(a, b) -> a // b (numpy.floor_divide; integer x // 0 is 0)", numeric,
      {"int_div", "IntDiv"}, -1, PiecewiseConstantGrad));
  r.Add(BinaryOp<scalar::Mod>("mod",
                              "mod(a, b) -> a % b, sign of b (numpy.remainder; integer x % 0 is 0)",
                              numeric, {"mod", "Mod"}, -1, ModGrad));
  r.Add(
      UnaryOp<scalar::Abs>("abs", "abs(a) (numpy.absolute)", upcast, {"abs_", "Abs"}, 15, AbsGrad));
  r.Add(UnaryOp<scalar::Sgn>("sgn", "sgn(a) -> -1, 0 or 1; NaN stays NaN (numpy.sign)", numeric,
                             {"sgn", "Sgn"}, 16, PiecewiseConstantGrad));
  r.Add(UnaryOp<scalar::Sqr>("sqr", "sqr(a) -> a * a, same dtype (numpy.square)", upcast,
                             {"sqr", "Sqr"}, 14, SqrGrad));
  r.Add(UnaryOp<scalar::Sqrt>("sqrt", "sqrt(a), ints become floats (numpy.sqrt)", to_float,
                              {"sqrt", "Sqrt"}, 13, SqrtGrad));
  r.Add(BinaryOp<scalar::Maximum>("maximum", "maximum(a, b), NaN propagates (numpy.maximum)",
                                  upcast, {"maximum", "Maximum"}, 17, MaxMinGrad, kTagCommutative));
  r.Add(BinaryOp<scalar::Minimum>("minimum", "minimum(a, b), NaN propagates (numpy.minimum)",
                                  upcast, {"minimum", "Minimum"}, 18, MaxMinGrad, kTagCommutative));
  r.Add(Elementwise<scalar::Clip, 3>(
      {.name = "clip",
       .min_inputs = 3,
       .max_inputs = 3,
       .doc = "clip(x, lo, hi) -> minimum(maximum(x, lo), hi) (numpy.clip)",
       .typing = upcast,
       .theano = {"clip", "Clip"},
       .opcode = 19,
       .format = "clip($0, $1, $2)",
       .grad = ClipGrad}));
  r.Add(UnaryOp<scalar::RoundHalfToEven>(
      "round_half_to_even", "round_half_to_even(a): ties to even; ints unchanged (numpy.round)",
      numeric, {"round_half_to_even", "RoundHalfToEven"}, 36, PiecewiseConstantGrad));
  r.Add(UnaryOp<scalar::RoundHalfAway>(
      "round_half_away_from_zero",
      "round_half_away_from_zero(a): ties away from 0; ints unchanged (C round)", numeric,
      {"round_half_away_from_zero", "RoundHalfAwayFromZero"}, 37, PiecewiseConstantGrad));
  // Theano's upgrade_to_float: floor/ceil/trunc of ints give floats (NumPy 2 keeps ints).
  r.Add(UnaryOp<scalar::Floor>("floor", "floor(a), ints become floats (numpy.floor)", to_float,
                               {"floor", "Floor"}, 33, PiecewiseConstantGrad));
  r.Add(UnaryOp<scalar::Ceil>("ceil", "ceil(a), ints become floats (numpy.ceil)", to_float,
                              {"ceil", "Ceil"}, 34, PiecewiseConstantGrad));
  r.Add(UnaryOp<scalar::Trunc>("trunc", "trunc(a), ints become floats (numpy.trunc)", to_float,
                               {"trunc", "Trunc"}, 35, PiecewiseConstantGrad));
}

}  // namespace tensord::ops
