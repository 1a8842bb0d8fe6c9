// Transcendental elementwise functions. Integer inputs upgrade to float (Theano's
// upgrade_to_float), so every kernel runs on float32/float64 only.
#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/transcendental.h"

namespace tensord::ops {

void RegisterTranscendental(Registry& r) {
  const ElementwiseTyping f{ElemDTypeRule::kUpgradeToFloat};
  // `numpy` completes the doc: "name(a), ints become floats (numpy)".
  auto add = [&](OpDef d, const char* numpy) {
    d.doc = absl::StrCat(d.name, "(a), ints become floats (", numpy, ")");
    r.Add(std::move(d));
  };
  add(UnaryOp<scalar::Expm1>("expm1", "", f, {"expm1", "Expm1"}, 10), "numpy.expm1");
  add(UnaryOp<scalar::Exp2>("exp2", "", f, {"exp2", "Exp2"}, 49), "numpy.exp2");
  add(UnaryOp<scalar::Log1p>("log1p", "", f, {"log1p", "Log1p"}, 9), "numpy.log1p");
  add(UnaryOp<scalar::Log2>("log2", "", f, {"log2", "Log2"}, 11), "numpy.log2");
  add(UnaryOp<scalar::Log10>("log10", "", f, {"log10", "Log10"}, 12), "numpy.log10");
  add(UnaryOp<scalar::Sin>("sin", "", f, {"sin", "Sin"}, 23), "numpy.sin");
  add(UnaryOp<scalar::Cos>("cos", "", f, {"cos", "Cos"}, 24), "numpy.cos");
  add(UnaryOp<scalar::Tan>("tan", "", f, {"tan", "Tan"}, 25), "numpy.tan");
  add(UnaryOp<scalar::Arcsin>("arcsin", "", f, {"arcsin", "ArcSin"}, 26), "numpy.arcsin");
  add(UnaryOp<scalar::Arccos>("arccos", "", f, {"arccos", "ArcCos"}, 27), "numpy.arccos");
  add(UnaryOp<scalar::Arctan>("arctan", "", f, {"arctan", "ArcTan"}, 28), "numpy.arctan");
  add(UnaryOp<scalar::Sinh>("sinh", "", f, {"sinh", "Sinh"}, 29), "numpy.sinh");
  add(UnaryOp<scalar::Cosh>("cosh", "", f, {"cosh", "Cosh"}, 30), "numpy.cosh");
  add(UnaryOp<scalar::Tanh>("tanh", "", f, {"tanh", "Tanh"}, 20), "numpy.tanh");
  add(UnaryOp<scalar::Erf>("erf", "", f, {"erf", "Erf"}, 31), "scipy.special.erf");
  add(UnaryOp<scalar::Erfc>("erfc", "", f, {"erfc", "Erfc"}, 32), "scipy.special.erfc");
  add(UnaryOp<scalar::Gamma>("gamma", "", f, {"gamma", "Gamma"}, -1), "scipy.special.gamma");
  add(UnaryOp<scalar::Gammaln>("gammaln", "", f, {"gammaln", "GammaLn"}, -1),
      "scipy.special.gammaln: log|gamma(a)|");
  add(UnaryOp<scalar::Psi>("psi", "", f, {"psi", "Psi"}, -1),
      "scipy.special.psi: digamma, the derivative of gammaln");
  OpDef tri_gamma = UnaryOp<scalar::TriGamma>(
      "tri_gamma",
      "tri_gamma(a), ints become floats (scipy.special.polygamma(1, a): the derivative of psi)", f,
      {"tri_gamma", "TriGamma"}, -1);
  tri_gamma.differentiable = false;  // Theano's TriGamma has no gradient either
  r.Add(std::move(tri_gamma));
  add(UnaryOp<scalar::Sigmoid>("sigmoid", "", f, {"sigmoid", "ScalarSigmoid"}, 21),
      "1 / (1 + exp(-a)), computed without overflow; scipy.special.expit");
  add(UnaryOp<scalar::Softplus>("softplus", "", f, {"softplus", "ScalarSoftplus"}, 22),
      "log(1 + exp(a)) = log1p(exp(-|a|)) + max(a, 0); numpy.logaddexp(0, a)");
  r.Add(BinaryOp<scalar::Arctan2>("arctan2", "arctan2(a, b), ints become floats (numpy.arctan2)", f,
                                  {"arctan2", "ArcTan2"}, 38));
}

}  // namespace tensord::ops
