// Digamma and trigamma, written once for the host (transcendental.h expands them as C++) and for
// CUDA kernels (cuda/composite_source.cc takes their text, TENSORD_POLYGAMMA_SOURCE): plain C over
// doubles that the host's compiler and NVRTC compile alike, so a GPU computes the host's
// algorithm (its log, tan and sin within an ULP or two of glibc's).
//
// Digamma (scipy.special.psi), in double for both float dtypes: negative x reflect to 1 - x,
// psi(x) = psi(1 - x) - pi / tan(pi x), with tan's argument reduced to r = x - round(x) in
// [-1/2, 1/2] first (exact), so that pi r keeps its digits near the poles (cot is 0 at +-1/2);
// positive integers up to 10 take the exact harmonic sum; other x below 10 move into [1, 2] by
// the recurrence psi(x + 1) = psi(x) + 1/x, where Boost's rational approximation,
// (x - root) (Y + P(x - 1) / Q(x - 1)) with the root split in three parts, keeps the relative
// error small around the positive root; from 10 on the asymptotic series
// psi(x) ~ log(x) - 1/(2x) - sum_k B_2k / (2k x^2k), to B_16 (the terms left are below 1e-17
// relative). SciPy's special values: psi(+-0) = -+inf, NaN at negative integers and -inf.
//
// Trigamma, psi'(x) (scipy.special.polygamma(1, x) = zeta(2, x)): psi1(x) + psi1(1 - x) =
// pi^2 / sin^2(pi x) for negative x (sin^2 has period 1: x reduced to x - round(x) first); the
// recurrence psi1(x) = psi1(x + 1) + 1/x^2 up to 10 (all terms positive: no cancellation), then
// psi1(x) ~ 1/x + 1/(2x^2) + sum_k B_2k / x^(2k+1), to B_18. +inf at the poles (non-positive
// integers, and -inf), as SciPy's zeta.
#pragma once

#define TENSORD_POLYGAMMA(QUALIFIER, INF, NOT_A_NUMBER)                                         \
  QUALIFIER double tensord_polynomial(const double* c, int n, double z) {                       \
    double s = 0;                                                                               \
    for (int i = n - 1; i >= 0; --i) s = s * z + c[i];                                          \
    return s;                                                                                   \
  }                                                                                             \
  QUALIFIER double tensord_digamma(double x) {                                                  \
    if (isnan(x) || x == INF) return x;                                                         \
    if (x == -INF) return NOT_A_NUMBER;                                                         \
    if (x == 0) return copysign(INF, -x);                                                       \
    double result = 0;                                                                          \
    if (x < 0) {                                                                                \
      const double r = x - round(x);                                                            \
      if (r == 0) return NOT_A_NUMBER;                                                          \
      if (fabs(r) != 0.5) result = -3.14159265358979323846 / tan(3.14159265358979323846 * r);   \
      x = 1 - x;                                                                                \
    }                                                                                           \
    if (x <= 10 && x == floor(x)) {                                                             \
      for (int k = 1; k < (int)x; ++k) result += 1.0 / k;                                       \
      return result - 0.57721566490153286061;                                                   \
    }                                                                                           \
    if (x < 10) {                                                                               \
      for (; x < 1; x += 1) result -= 1 / x;                                                    \
      while (x > 2) {                                                                           \
        x -= 1;                                                                                 \
        result += 1 / x;                                                                        \
      }                                                                                         \
      const double p[] = {0.25479851061131551,  -0.32555031186804491,  -0.65031853770896507,    \
                          -0.28919126444774784, -0.045251321448739056, -0.0020713321167745952}; \
      const double q[] = {1.0,                                                                  \
                          2.0767117023730469,                                                   \
                          1.4606242909763515,                                                   \
                          0.43593529692665969,                                                  \
                          0.054151797245674225,                                                 \
                          0.0021284987017821144,                                                \
                          -0.55789841321675513e-6};                                             \
      const double g =                                                                          \
          ((x - 1569415565.0 / 1073741824.0) - (381566830.0 / 1073741824.0) / 1073741824.0) -   \
          0.9016312093258695918615325266959189453125e-19;                                       \
      return result + g * 0.99558162689208984 +                                                 \
             g * (tensord_polynomial(p, 6, x - 1) / tensord_polynomial(q, 7, x - 1));           \
    }                                                                                           \
    const double b2k_over_2k[] = {1.0 / 12,  -1.0 / 120,     1.0 / 252, -1.0 / 240,             \
                                  1.0 / 132, -691.0 / 32760, 1.0 / 12,  -3617.0 / 8160};        \
    const double z = 1 / (x * x);                                                               \
    return result + log(x) - 0.5 / x - z * tensord_polynomial(b2k_over_2k, 8, z);               \
  }                                                                                             \
  QUALIFIER double tensord_trigamma(double x) {                                                 \
    if (isnan(x)) return x;                                                                     \
    if (x <= 0 && x == floor(x)) return INF;                                                    \
    if (x == INF) return 0;                                                                     \
    double reflected = -1; /* < 0: x was not reflected */                                       \
    if (x < 0) {                                                                                \
      const double s = sin(3.14159265358979323846 * (x - round(x)));                            \
      reflected = 3.14159265358979323846 * 3.14159265358979323846 / (s * s);                    \
      x = 1 - x;                                                                                \
    }                                                                                           \
    double result = 0;                                                                          \
    for (; x < 10; x += 1) result += 1 / (x * x);                                               \
    const double b2k[] = {1.0 / 6,       -1.0 / 30, 1.0 / 42,      -1.0 / 30,    5.0 / 66,      \
                          -691.0 / 2730, 7.0 / 6,   -3617.0 / 510, 43867.0 / 798};              \
    const double r = 1 / x;                                                                     \
    const double z = r * r;                                                                     \
    result = result + r + 0.5 * z + r * z * tensord_polynomial(b2k, 9, z);                      \
    return reflected < 0 ? result : reflected - result;                                         \
  }

// The functions' text with `qualifier` (CUDA's "__device__ inline") before each, `inf` and
// `not_a_number` the device's expressions of those values.
#define TENSORD_POLYGAMMA_STRINGIZE(...) #__VA_ARGS__
#define TENSORD_POLYGAMMA_EXPAND_TO_STRING(...) TENSORD_POLYGAMMA_STRINGIZE(__VA_ARGS__)
#define TENSORD_POLYGAMMA_SOURCE(qualifier, inf, not_a_number) \
  TENSORD_POLYGAMMA_EXPAND_TO_STRING(TENSORD_POLYGAMMA(qualifier, inf, not_a_number))
