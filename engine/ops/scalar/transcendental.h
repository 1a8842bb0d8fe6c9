// Scalar forms of the transcendental elementwise ops (see arithmetic.h for the conventions).
// Integer inputs upgrade to float (Theano's upgrade_to_float), so every functor but the
// predicates is float-only.
#pragma once

#include <math.h>  // lgamma_r: std::lgamma writes the global signgam, a race between runs

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "engine/ops/scalar/arithmetic.h"
#include "engine/ops/scalar/polygamma_text.h"

namespace tensord::scalar {

TENSORD_SCALAR_VECTOR_UNARY(Expm1, std::expm1, kExpm1)
TENSORD_SCALAR_VECTOR_UNARY(Exp2, std::exp2, kExp2)
TENSORD_SCALAR_VECTOR_UNARY(Log1p, std::log1p, kLog1p)
TENSORD_SCALAR_VECTOR_UNARY(Log2, std::log2, kLog2)
TENSORD_SCALAR_VECTOR_UNARY(Log10, std::log10, kLog10)
TENSORD_SCALAR_VECTOR_UNARY(Sin, std::sin, kSin)
TENSORD_SCALAR_VECTOR_UNARY(Cos, std::cos, kCos)
TENSORD_SCALAR_VECTOR_UNARY(Tan, std::tan, kTan)
TENSORD_SCALAR_VECTOR_UNARY(Arcsin, std::asin, kArcsin)
TENSORD_SCALAR_VECTOR_UNARY(Arccos, std::acos, kArccos)
TENSORD_SCALAR_VECTOR_UNARY(Arctan, std::atan, kArctan)
TENSORD_SCALAR_VECTOR_UNARY(Sinh, std::sinh, kSinh)
TENSORD_SCALAR_VECTOR_UNARY(Cosh, std::cosh, kCosh)
TENSORD_SCALAR_VECTOR_UNARY(Tanh, std::tanh, kTanh)
TENSORD_SCALAR_VECTOR_UNARY(Erf, std::erf, kErf)
TENSORD_SCALAR_VECTOR_UNARY(Erfc, std::erfc, kErfc)
TENSORD_SCALAR_FLOAT_UNARY(Gamma, std::tgamma)

struct Gammaln {
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
struct Sigmoid {
  static constexpr bool kFloatOnly = true;
  static constexpr vmath::Fn kVector = vmath::Fn::kSigmoid;
  template <class T>
  static T Apply(T a) {
    if (a >= 0) return T(1) / (T(1) + std::exp(-a));
    const T e = std::exp(a);  // also the NaN path
    return e / (T(1) + e);
  }
};

// log(1 + exp(x)) = log1p(exp(-|x|)) + max(x, 0): exp never overflows and small results keep
// their precision.
struct Softplus {
  static constexpr bool kFloatOnly = true;
  static constexpr vmath::Fn kVector = vmath::Fn::kSoftplus;
  template <class T>
  static T Apply(T a) {
    return std::log1p(std::exp(-std::fabs(a))) + (a > 0 ? a : T(0));
  }
};

struct Arctan2 {
  static constexpr bool kFloatOnly = true;
  static constexpr vmath::Fn2 kVector2 = vmath::Fn2::kArctan2;
  template <class T>
  static T Apply(T a, T b) {
    return std::atan2(a, b);
  }
};

// Digamma and trigamma (polygamma_text.h: one text for the host and CUDA kernels).
TENSORD_POLYGAMMA(inline, INFINITY, NAN)

// Digamma and trigamma compute in double for both float dtypes.
struct Psi {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(tensord_digamma(static_cast<double>(a)));
  }
};
struct TriGamma {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(tensord_trigamma(static_cast<double>(a)));
  }
};

}  // namespace tensord::scalar
