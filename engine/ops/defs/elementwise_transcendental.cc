// Transcendental elementwise functions. Integer inputs upgrade to float (Theano's
// upgrade_to_float), so every kernel runs on float32/float64 only. Each is declared with its grad
// rule.
#include <cmath>

#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/transcendental.h"

namespace tensord::ops {
namespace {

// ---- grad rules, in Theano 1.0's forms ----

using ir::Variable;
using V = Variable*;

// A one-input rule as a formula of x, the node's output and gz. The driver only calls a rule
// for a float input, so x, out and gz share one float dtype and constants take it
// (ConstantLike) to keep float32 graphs float32.
template <class Formula>
Grads Unary(const ir::Apply& node, OutGrads gz, Formula f) {
  return Grads{f(node.inputs[0], node.outputs[0], gz[0])};
}

Variable* Call(NodeBuilder& b, const char* op, Variable* x) { return b.Apply(op, {x}); }

// 1 - x^2, under the square roots of arcsin's and arccos's derivatives.
Variable* OneMinusSqr(NodeBuilder& b, Variable* x) {
  return b.Sub(b.ConstantLike(1, x), Call(b, "sqr", x));
}

// 2/sqrt(pi) * exp(-x^2), the derivative of erf.
Variable* ErfDerivative(NodeBuilder& b, Variable* x) {
  Variable* cst = b.ConstantLike(2 / std::sqrt(M_PI), x);
  return b.Mul(cst, Call(b, "exp", b.Mul(b.Neg(x), x)));
}

Grads Expm1Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "exp", x)); });
}
Grads Exp2Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) {
    return b.Mul(g, b.Mul(Call(b, "exp2", x), b.ConstantLike(std::log(2.0), x)));
  });
}
Grads Log1pGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Div(g, b.Add(b.ConstantLike(1, x), x)); });
}
Grads Log2Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz,
               [&](V x, V, V g) { return b.Div(g, b.Mul(x, b.ConstantLike(std::log(2.0), x))); });
}
Grads Log10Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz,
               [&](V x, V, V g) { return b.Div(g, b.Mul(x, b.ConstantLike(std::log(10.0), x))); });
}

Grads SinGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "cos", x)); });
}
Grads CosGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(b.Neg(g), Call(b, "sin", x)); });
}
Grads TanGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Div(g, Call(b, "sqr", Call(b, "cos", x))); });
}
Grads ArcsinGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Div(g, Call(b, "sqrt", OneMinusSqr(b, x))); });
}
Grads ArccosGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz,
               [&](V x, V, V g) { return b.Div(b.Neg(g), Call(b, "sqrt", OneMinusSqr(b, x))); });
}
Grads ArctanGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) {
    return b.Div(g, b.Add(b.ConstantLike(1, x), Call(b, "sqr", x)));
  });
}

// d atan2(y, x) = (x dy - y dx) / (x^2 + y^2). Integer operands are cast to the output's float
// dtype first: their squares could wrap.
Grads Arctan2Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  const DType f = node.outputs[0]->type.dtype;
  Variable* y = b.Cast(node.inputs[0], f);
  Variable* x = b.Cast(node.inputs[1], f);
  Variable* r2 = b.Add(Call(b, "sqr", x), Call(b, "sqr", y));
  return b.SumToInputs(node, {b.Div(b.Mul(gz[0], x), r2), b.Div(b.Mul(gz[0], b.Neg(y)), r2)});
}

Grads SinhGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "cosh", x)); });
}
Grads CoshGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "sinh", x)); });
}
Grads TanhGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V out, V g) {
    return b.Mul(g, b.Sub(b.ConstantLike(1, x), Call(b, "sqr", out)));
  });
}

Grads ErfGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, ErfDerivative(b, x)); });
}
Grads ErfcGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(b.Neg(g), ErfDerivative(b, x)); });
}

// gamma' = gamma * psi, gammaln' = psi, psi' = tri_gamma (which has no rule: Theano's TriGamma
// defines no gradient).
Grads GammaGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V out, V g) { return b.Mul(b.Mul(g, out), Call(b, "psi", x)); });
}
Grads GammalnGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "psi", x)); });
}
Grads PsiGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "tri_gamma", x)); });
}

Grads SigmoidGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V out, V g) {
    return b.Mul(b.Mul(g, out), b.Sub(b.ConstantLike(1, x), out));
  });
}
Grads SoftplusGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return Unary(node, gz, [&](V x, V, V g) { return b.Mul(g, Call(b, "sigmoid", x)); });
}

}  // namespace

void RegisterTranscendental(Registry& r) {
  const ElementwiseTyping f{ElemDTypeRule::kUpgradeToFloat};
  // `numpy` completes the doc: "name(a), ints become floats (numpy)".
  auto add = [&](OpDef d, const char* numpy) {
    d.doc = absl::StrCat(d.name, "(a), ints become floats (", numpy, ")");
    r.Add(std::move(d));
  };
  add(UnaryOp<scalar::Expm1>("expm1", "", f, {"expm1", "Expm1"}, 10, Expm1Grad), "numpy.expm1");
  add(UnaryOp<scalar::Exp2>("exp2", "", f, {"exp2", "Exp2"}, 49, Exp2Grad), "numpy.exp2");
  add(UnaryOp<scalar::Log1p>("log1p", "", f, {"log1p", "Log1p"}, 9, Log1pGrad), "numpy.log1p");
  add(UnaryOp<scalar::Log2>("log2", "", f, {"log2", "Log2"}, 11, Log2Grad), "numpy.log2");
  add(UnaryOp<scalar::Log10>("log10", "", f, {"log10", "Log10"}, 12, Log10Grad), "numpy.log10");
  add(UnaryOp<scalar::Sin>("sin", "", f, {"sin", "Sin"}, 23, SinGrad), "numpy.sin");
  add(UnaryOp<scalar::Cos>("cos", "", f, {"cos", "Cos"}, 24, CosGrad), "numpy.cos");
  add(UnaryOp<scalar::Tan>("tan", "", f, {"tan", "Tan"}, 25, TanGrad), "numpy.tan");
  add(UnaryOp<scalar::Arcsin>("arcsin", "", f, {"arcsin", "ArcSin"}, 26, ArcsinGrad),
      "numpy.arcsin");
  add(UnaryOp<scalar::Arccos>("arccos", "", f, {"arccos", "ArcCos"}, 27, ArccosGrad),
      "numpy.arccos");
  add(UnaryOp<scalar::Arctan>("arctan", "", f, {"arctan", "ArcTan"}, 28, ArctanGrad),
      "numpy.arctan");
  add(UnaryOp<scalar::Sinh>("sinh", "", f, {"sinh", "Sinh"}, 29, SinhGrad), "numpy.sinh");
  add(UnaryOp<scalar::Cosh>("cosh", "", f, {"cosh", "Cosh"}, 30, CoshGrad), "numpy.cosh");
  add(UnaryOp<scalar::Tanh>("tanh", "", f, {"tanh", "Tanh"}, 20, TanhGrad), "numpy.tanh");
  add(UnaryOp<scalar::Erf>("erf", "", f, {"erf", "Erf"}, 31, ErfGrad), "scipy.special.erf");
  add(UnaryOp<scalar::Erfc>("erfc", "", f, {"erfc", "Erfc"}, 32, ErfcGrad), "scipy.special.erfc");
  add(UnaryOp<scalar::Gamma>("gamma", "", f, {"gamma", "Gamma"}, -1, GammaGrad),
      "scipy.special.gamma");
  add(UnaryOp<scalar::Gammaln>("gammaln", "", f, {"gammaln", "GammaLn"}, -1, GammalnGrad),
      "scipy.special.gammaln: log|gamma(a)|");
  add(UnaryOp<scalar::Psi>("psi", "", f, {"psi", "Psi"}, -1, PsiGrad),
      "scipy.special.psi: digamma, the derivative of gammaln");
  OpDef tri_gamma = UnaryOp<scalar::TriGamma>(
      "tri_gamma",
      "tri_gamma(a), ints become floats (scipy.special.polygamma(1, a): the derivative of psi)", f,
      {"tri_gamma", "TriGamma"}, -1, kNotDifferentiable);  // as Theano's TriGamma
  r.Add(std::move(tri_gamma));
  add(UnaryOp<scalar::Sigmoid>("sigmoid", "", f, {"sigmoid", "ScalarSigmoid"}, 21, SigmoidGrad),
      "1 / (1 + exp(-a)), computed without overflow; scipy.special.expit");
  add(UnaryOp<scalar::Softplus>("softplus", "", f, {"softplus", "ScalarSoftplus"}, 22,
                                SoftplusGrad),
      "log(1 + exp(a)) = log1p(exp(-|a|)) + max(a, 0); numpy.logaddexp(0, a)");
  r.Add(BinaryOp<scalar::Arctan2>("arctan2", "arctan2(a, b), ints become floats (numpy.arctan2)", f,
                                  {"arctan2", "ArcTan2"}, 38, Arctan2Grad));
}

}  // namespace tensord::ops
