// Grad rules of the transcendental elementwise functions (exp/log variants, trigonometric,
// hyperbolic, erf, the gamma family, sigmoid, softplus), in Theano 1.0's forms.
#include <cmath>

#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using Grads = std::vector<Variable*>;
using OutGrads = std::span<Variable* const>;

// A one-input rule as a formula of x, the node's output and gz. The driver only calls a rule
// for a float input, so x, out and gz share one float dtype and constants take it
// (ConstantLike) to keep float32 graphs float32.
using UnaryFormula = Variable* (*)(NodeBuilder& b, Variable* x, Variable* out, Variable* gz);

GradFn Unary(UnaryFormula f) {
  return [f](NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
    return Grads{f(b, node.inputs[0], node.outputs[0], gz[0])};
  };
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

// d atan2(y, x) = (x dy - y dx) / (x^2 + y^2). Integer operands are cast to the output's float
// dtype first: their squares could wrap.
Grads Arctan2Grad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  const DType f = node.outputs[0]->type.dtype;
  Variable* y = b.Cast(node.inputs[0], f);
  Variable* x = b.Cast(node.inputs[1], f);
  Variable* r2 = b.Add(Call(b, "sqr", x), Call(b, "sqr", y));
  return b.SumToInputs(node, {b.Div(b.Mul(gz[0], x), r2), b.Div(b.Mul(gz[0], b.Neg(y)), r2)});
}

}  // namespace

void AttachTranscendentalGrads(Registry& r) {
  using V = Variable*;
  r.SetGrad("expm1",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "exp", x)); }));
  r.SetGrad("exp2", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Mul(gz, b.Mul(Call(b, "exp2", x), b.ConstantLike(std::log(2.0), x)));
            }));
  r.SetGrad("log1p", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, b.Add(b.ConstantLike(1, x), x));
            }));
  r.SetGrad("log2", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, b.Mul(x, b.ConstantLike(std::log(2.0), x)));
            }));
  r.SetGrad("log10", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, b.Mul(x, b.ConstantLike(std::log(10.0), x)));
            }));

  r.SetGrad("sin",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "cos", x)); }));
  r.SetGrad("cos", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Mul(b.Neg(gz), Call(b, "sin", x));
            }));
  r.SetGrad("tan", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, Call(b, "sqr", Call(b, "cos", x)));
            }));
  r.SetGrad("arcsin", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, Call(b, "sqrt", OneMinusSqr(b, x)));
            }));
  r.SetGrad("arccos", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(b.Neg(gz), Call(b, "sqrt", OneMinusSqr(b, x)));
            }));
  r.SetGrad("arctan", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Div(gz, b.Add(b.ConstantLike(1, x), Call(b, "sqr", x)));
            }));
  r.SetGrad("arctan2", Arctan2Grad);

  r.SetGrad("sinh",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "cosh", x)); }));
  r.SetGrad("cosh",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "sinh", x)); }));
  r.SetGrad("tanh", Unary([](NodeBuilder& b, V x, V out, V gz) {
              return b.Mul(gz, b.Sub(b.ConstantLike(1, x), Call(b, "sqr", out)));
            }));

  r.SetGrad("erf",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, ErfDerivative(b, x)); }));
  r.SetGrad("erfc", Unary([](NodeBuilder& b, V x, V, V gz) {
              return b.Mul(b.Neg(gz), ErfDerivative(b, x));
            }));

  // gamma' = gamma * psi, gammaln' = psi, psi' = tri_gamma (which has no rule: Theano's
  // TriGamma defines no gradient).
  r.SetGrad("gamma", Unary([](NodeBuilder& b, V x, V out, V gz) {
              return b.Mul(b.Mul(gz, out), Call(b, "psi", x));
            }));
  r.SetGrad("gammaln",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "psi", x)); }));
  r.SetGrad("psi",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "tri_gamma", x)); }));

  r.SetGrad("sigmoid", Unary([](NodeBuilder& b, V x, V out, V gz) {
              return b.Mul(b.Mul(gz, out), b.Sub(b.ConstantLike(1, x), out));
            }));
  r.SetGrad("softplus",
            Unary([](NodeBuilder& b, V x, V, V gz) { return b.Mul(gz, Call(b, "sigmoid", x)); }));
}

}  // namespace tensord::ops
