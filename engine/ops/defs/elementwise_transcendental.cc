// Transcendental elementwise functions. Integer inputs upgrade to float (Theano's
// upgrade_to_float), so every kernel runs on float32/float64 only.
#include <math.h>  // lgamma_r: std::lgamma writes the global signgam, a race between runs

#include <cmath>
#include <type_traits>

#include "engine/backends/cpu/elementwise.h"
#include "engine/ops/defs/elemwise_kernels.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

#define TENSORD_FLOAT_UNARY(Name, expr)      \
  struct Name {                              \
    static constexpr bool kFloatOnly = true; \
    template <class T>                       \
    static T Apply(T a) {                    \
      return expr;                           \
    }                                        \
  };
TENSORD_FLOAT_UNARY(Expm1Op, std::expm1(a))
TENSORD_FLOAT_UNARY(Log1pOp, std::log1p(a))
TENSORD_FLOAT_UNARY(Log2Op, std::log2(a))
TENSORD_FLOAT_UNARY(Log10Op, std::log10(a))
TENSORD_FLOAT_UNARY(SinOp, std::sin(a))
TENSORD_FLOAT_UNARY(CosOp, std::cos(a))
TENSORD_FLOAT_UNARY(TanOp, std::tan(a))
TENSORD_FLOAT_UNARY(ArcsinOp, std::asin(a))
TENSORD_FLOAT_UNARY(ArccosOp, std::acos(a))
TENSORD_FLOAT_UNARY(ArctanOp, std::atan(a))
TENSORD_FLOAT_UNARY(SinhOp, std::sinh(a))
TENSORD_FLOAT_UNARY(CoshOp, std::cosh(a))
TENSORD_FLOAT_UNARY(TanhOp, std::tanh(a))
TENSORD_FLOAT_UNARY(ErfOp, std::erf(a))
TENSORD_FLOAT_UNARY(ErfcOp, std::erfc(a))
TENSORD_FLOAT_UNARY(GammaOp, std::tgamma(a))
#undef TENSORD_FLOAT_UNARY

struct GammalnOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    int sign;
    if constexpr (std::is_same_v<T, float>) {
      return lgammaf_r(a, &sign);
    } else {
      return lgamma_r(a, &sign);
    }
  }
};

// 1 / (1 + exp(-x)) overflows exp for very negative x; the two branches never do.
struct SigmoidOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      if (a >= 0) return T(1) / (T(1) + std::exp(-a));
      const T e = std::exp(a);  // also the NaN path
      return e / (T(1) + e);
    } else {
      return a;  // never runs: ints upgrade to float (UnaryKernel instantiates every dtype)
    }
  }
};

// log(1 + exp(x)) = log1p(exp(-|x|)) + max(x, 0): exp never overflows and small results keep
// their precision.
struct SoftplusOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return std::log1p(std::exp(-std::fabs(a))) + (a > 0 ? a : T(0));
  }
};

struct Arctan2Op {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a, T b) {
    return std::atan2(a, b);
  }
};

}  // namespace

void RegisterTranscendental(Registry& r) {
  using cpu::MakeKernel;
  using cpu::UnaryKernel;
  using elemwise::Elementwise;
  const auto f = ElemDTypeRule::kUpgradeToFloat;
  auto unary = [&](const char* name, const char* numpy, MakeKernelFn kernel) {
    r.Add(Elementwise(name, 1, absl::StrCat(name, "(a), ints become floats (", numpy, ")"), f,
                      std::move(kernel)));
  };
  unary("expm1", "numpy.expm1", MakeKernel<UnaryKernel<Expm1Op>>());
  unary("log1p", "numpy.log1p", MakeKernel<UnaryKernel<Log1pOp>>());
  unary("log2", "numpy.log2", MakeKernel<UnaryKernel<Log2Op>>());
  unary("log10", "numpy.log10", MakeKernel<UnaryKernel<Log10Op>>());
  unary("sin", "numpy.sin", MakeKernel<UnaryKernel<SinOp>>());
  unary("cos", "numpy.cos", MakeKernel<UnaryKernel<CosOp>>());
  unary("tan", "numpy.tan", MakeKernel<UnaryKernel<TanOp>>());
  unary("arcsin", "numpy.arcsin", MakeKernel<UnaryKernel<ArcsinOp>>());
  unary("arccos", "numpy.arccos", MakeKernel<UnaryKernel<ArccosOp>>());
  unary("arctan", "numpy.arctan", MakeKernel<UnaryKernel<ArctanOp>>());
  unary("sinh", "numpy.sinh", MakeKernel<UnaryKernel<SinhOp>>());
  unary("cosh", "numpy.cosh", MakeKernel<UnaryKernel<CoshOp>>());
  unary("tanh", "numpy.tanh", MakeKernel<UnaryKernel<TanhOp>>());
  unary("erf", "scipy.special.erf", MakeKernel<UnaryKernel<ErfOp>>());
  unary("erfc", "scipy.special.erfc", MakeKernel<UnaryKernel<ErfcOp>>());
  unary("gamma", "scipy.special.gamma", MakeKernel<UnaryKernel<GammaOp>>());
  unary("gammaln", "scipy.special.gammaln: log|gamma(a)|", MakeKernel<UnaryKernel<GammalnOp>>());
  unary("sigmoid", "1 / (1 + exp(-a)), computed without overflow; scipy.special.expit",
        MakeKernel<UnaryKernel<SigmoidOp>>());
  unary("softplus", "log(1 + exp(a)) = log1p(exp(-|a|)) + max(a, 0); numpy.logaddexp(0, a)",
        MakeKernel<UnaryKernel<SoftplusOp>>());
  r.Add(Elementwise("arctan2", 2, "arctan2(a, b), ints become floats (numpy.arctan2)", f,
                    MakeKernel<cpu::FoldKernel<Arctan2Op>>()));
}

}  // namespace tensord::ops
