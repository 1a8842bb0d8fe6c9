// Scalar forms of the transcendental elementwise ops (see arithmetic.h for the conventions).
// Integer inputs upgrade to float (Theano's upgrade_to_float), so every functor but the
// predicates is float-only.
#pragma once

#include <math.h>  // lgamma_r: std::lgamma writes the global signgam, a race between runs

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "engine/ops/scalar/arithmetic.h"

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

// c[0] + c[1] z + c[2] z^2 + ... by Horner's rule.
template <size_t N>
inline double Polynomial(const double (&c)[N], double z) {
  double s = 0;
  for (size_t i = N; i-- > 0;) s = s * z + c[i];
  return s;
}

inline constexpr double kPi = 3.14159265358979323846;

// Digamma (scipy.special.psi), in double for both float dtypes. Negative x reflect to 1 - x;
// positive integers up to 10 take the exact harmonic sum; other x below 10 move into [1, 2]
// by the recurrence psi(x + 1) = psi(x) + 1/x, where Boost's rational approximation keeps the
// relative error small around the positive root; from 10 on the asymptotic series. SciPy's
// special values: psi(+-0) = -+inf, NaN at negative integers and -inf.
inline double Digamma(double x) {
  if (std::isnan(x) || x == INFINITY) return x;
  if (x == -INFINITY) return NAN;
  if (x == 0) return std::copysign(INFINITY, -x);
  double result = 0;
  if (x < 0) {
    // psi(x) = psi(1 - x) - pi / tan(pi x). tan has period pi: reduce x to r = x - round(x)
    // in [-1/2, 1/2] first (exact), so that pi * r keeps its digits near the poles; cot is 0
    // at r = +-1/2.
    const double r = x - std::round(x);
    if (r == 0) return NAN;
    if (std::abs(r) != 0.5) result = -kPi / std::tan(kPi * r);
    x = 1 - x;
  }
  if (x <= 10 && x == std::floor(x)) {
    for (int k = 1; k < static_cast<int>(x); ++k) result += 1.0 / k;
    return result - 0.57721566490153286061;  // Euler's constant
  }
  if (x < 10) {
    for (; x < 1; x += 1) result -= 1 / x;
    while (x > 2) {
      x -= 1;
      result += 1 / x;
    }
    // Boost's digamma on [1, 2]: (x - root) * (Y + P(x - 1) / Q(x - 1)), with the root split
    // in three parts so that x - root keeps its digits near the root.
    constexpr double kY = 0.99558162689208984;
    constexpr double kRoot1 = 1569415565.0 / 1073741824.0;
    constexpr double kRoot2 = (381566830.0 / 1073741824.0) / 1073741824.0;
    constexpr double kRoot3 = 0.9016312093258695918615325266959189453125e-19;
    constexpr double kP[] = {0.25479851061131551,  -0.32555031186804491,  -0.65031853770896507,
                             -0.28919126444774784, -0.045251321448739056, -0.0020713321167745952};
    constexpr double kQ[] = {1.0,
                             2.0767117023730469,
                             1.4606242909763515,
                             0.43593529692665969,
                             0.054151797245674225,
                             0.0021284987017821144,
                             -0.55789841321675513e-6};
    const double g = ((x - kRoot1) - kRoot2) - kRoot3;
    return result + g * kY + g * (Polynomial(kP, x - 1) / Polynomial(kQ, x - 1));
  }
  // psi(x) ~ log(x) - 1/(2x) - sum_k B_2k / (2k x^2k); to B_16 the terms left are below
  // 1e-17 relative from 10 on.
  constexpr double kB2kOver2k[] = {1.0 / 12,  -1.0 / 120,     1.0 / 252, -1.0 / 240,
                                   1.0 / 132, -691.0 / 32760, 1.0 / 12,  -3617.0 / 8160};
  const double z = 1 / (x * x);
  return result + std::log(x) - 0.5 / x - z * Polynomial(kB2kOver2k, z);
}

// Trigamma, psi'(x) (scipy.special.polygamma(1, x) = zeta(2, x)): reflection for negative x;
// the recurrence psi1(x) = psi1(x + 1) + 1/x^2 up to 10 (all terms positive: no
// cancellation), then the asymptotic series. +inf at the poles (non-positive integers, and
// -inf), as SciPy's zeta.
inline double Trigamma(double x) {
  if (std::isnan(x)) return x;
  if (x <= 0 && x == std::floor(x)) return INFINITY;
  if (x == INFINITY) return 0;
  if (x < 0) {
    // psi1(x) + psi1(1 - x) = pi^2 / sin^2(pi x); sin^2 has period 1, so reduce x to
    // x - round(x) in [-1/2, 1/2] first (exact), keeping pi * x's digits near the poles.
    const double s = std::sin(kPi * (x - std::round(x)));
    return kPi * kPi / (s * s) - Trigamma(1 - x);
  }
  double result = 0;
  for (; x < 10; x += 1) result += 1 / (x * x);
  // psi1(x) ~ 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1); to B_18 the terms left are below 1e-17
  // relative from 10 on.
  constexpr double kB2k[] = {1.0 / 6,       -1.0 / 30, 1.0 / 42,      -1.0 / 30,    5.0 / 66,
                             -691.0 / 2730, 7.0 / 6,   -3617.0 / 510, 43867.0 / 798};
  const double r = 1 / x;
  const double z = r * r;
  return result + r + 0.5 * z + r * z * Polynomial(kB2k, z);
}

// Digamma and trigamma compute in double for both float dtypes.
struct Psi {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(Digamma(static_cast<double>(a)));
  }
};
struct TriGamma {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(Trigamma(static_cast<double>(a)));
  }
};

}  // namespace tensord::scalar
