// One binomial draw from the MRG31k3p uniforms it takes, written once for the host
// (kernels/random.cc expands it as C++) and for CUDA kernels (cuda/provider/random_kernels.cc
// takes its text, TENSORD_BINOMIAL_STEP_SOURCE), as mrg_step.h is, so a device draws the host's
// numbers from the same uniforms.
//
// A draw of (n, p) is certain (0 or n) for n == 0 or p in {0, 1} and takes no uniform; else,
// with q = min(p, 1 - p), inversion (walking the pmf from 0, one uniform) while n * q < 30,
// which keeps (1 - q)^n far from underflow; else a sum of n Bernoulli draws (exact, O(n)); the
// count of q-successes is turned into p-successes (n - k where p > 0.5).
//   tensord_binomial_uniforms(n, p): the uniforms the draw takes: 0, 1 or n;
//   tensord_binomial_draw(next, n, p): the draw, each uniform the value of next() (the host's
//   streams one after another; a device's from the draw's block of uniforms drawn before).
// pow is the math library's: glibc's on the host, CUDA's (within 2 ULP) on a GPU, so a GPU's
// inversion may differ where a uniform falls within an ULP of the cdf.
#pragma once

#include <cmath>  // pow, for the host's expansion

#include "engine/backends/cpu/mrg_step.h"

#define TENSORD_BINOMIAL_STEP(QUALIFIER)                                              \
  QUALIFIER double tensord_binomial_q(double p) { return 1.0 - p < p ? 1.0 - p : p; } \
  QUALIFIER long long tensord_binomial_uniforms(long long n, double p) {              \
    if (n == 0 || p == 0.0 || p == 1.0) return 0;                                     \
    return (double)n * tensord_binomial_q(p) < 30.0 ? 1 : n;                          \
  }                                                                                   \
  template <class Next>                                                               \
  QUALIFIER long long tensord_binomial_draw(Next& next, long long n, double p) {      \
    if (n == 0 || p == 0.0) return 0;                                                 \
    if (p == 1.0) return n;                                                           \
    const double q = tensord_binomial_q(p);                                           \
    long long k = 0;                                                                  \
    if (tensord_binomial_uniforms(n, p) == 1) {                                       \
      const double u = next();                                                        \
      double pmf = pow(1.0 - q, (double)n);                                           \
      double cdf = pmf;                                                               \
      const double ratio = q / (1.0 - q);                                             \
      while (u > cdf && k < n) {                                                      \
        pmf *= ratio * (double)(n - k) / (double)(k + 1);                             \
        ++k;                                                                          \
        cdf += pmf;                                                                   \
      }                                                                               \
    } else {                                                                          \
      for (long long i = 0; i < n; ++i) k += next() < q ? 1 : 0;                      \
    }                                                                                 \
    return p > 0.5 ? n - k : k;                                                       \
  }

#define TENSORD_BINOMIAL_STEP_SOURCE(qualifier) \
  TENSORD_MRG_EXPAND_TO_STRING(TENSORD_BINOMIAL_STEP(qualifier))
