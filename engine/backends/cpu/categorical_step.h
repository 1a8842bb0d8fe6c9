// The categorical draws from MRG31k3p uniforms, written once for the host (kernels/
// random_discrete.cc and random_mrg.h expand it as C++) and for CUDA kernels (cuda/provider/
// categorical_kernels.cc takes its text, TENSORD_CATEGORICAL_STEP_SOURCE), as mrg_step.h is, so a
// device draws the host's numbers from the same uniforms. Each draw takes one uniform, the value
// of next() (the host's streams one after another; a device's from uniforms drawn before).
//   tensord_below(u, m): an integer in [0, m) from u (31 bits of randomness: biased for huge m);
//   tensord_pick_category(p, len, u, total): the category u falls in, the first whose running
//     sum passes u * total; rounding can leave u past the last sum, which then gives the last
//     category of nonzero weight;
//   tensord_sum_allowance(tol, len): how far a row of len probabilities may sum from 1: tol, more
//     for long rows (a float32 softmax over 10^4 classes is off by ~1e-4);
//   tensord_probabilities_error(p, len, tol, &sum): -1 when p[0, len) are probabilities summing
//     to 1 within the allowance, else the first position outside [0, 1], or len for the sum; the
//     sum so far in `sum`;
//   tensord_choose(next, pop, p, replace, k, dst, pool, weights): k indices of [0, pop) into
//     dst, as numpy.random.choice draws them: p null for equal weights (with replacement one
//     tensord_below each; without, a partial Fisher-Yates through `pool`, pop entries), else by
//     weight (without replacement through `weights`, pop entries, each chosen weight zeroed and
//     the total summed afresh, so no rounding drift accumulates); the caller checked that k
//     draws are possible (k <= pop, and without replacement k nonzero weights);
//   tensord_permute(next, n, row): a permutation of range(n) into row (Fisher-Yates from the
//     end), in row's type, so a narrow type holds each index as a conversion of it would.
#pragma once

#include <cmath>  // fabs, for the host's expansion

#include "engine/backends/cpu/mrg_step.h"  // TENSORD_MRG_EXPAND_TO_STRING

#define TENSORD_CATEGORICAL_STEP(QUALIFIER)                                                      \
  QUALIFIER long long tensord_below(double u, long long m) {                                     \
    const long long j = (long long)(u * (double)m);                                              \
    return j < m ? j : m - 1;                                                                    \
  }                                                                                              \
  QUALIFIER long long tensord_pick_category(const double* p, long long len, double u,            \
                                            double total) {                                      \
    const double target = u * total;                                                             \
    double cumulative = 0;                                                                       \
    long long last_nonzero = 0;                                                                  \
    for (long long m = 0; m < len; ++m) {                                                        \
      if (p[m] <= 0) continue;                                                                   \
      last_nonzero = m;                                                                          \
      cumulative += p[m];                                                                        \
      if (cumulative > target) return m;                                                         \
    }                                                                                            \
    return last_nonzero;                                                                         \
  }                                                                                              \
  QUALIFIER double tensord_sum_allowance(double tol, long long len) {                            \
    const double longer = (double)len / 100.0;                                                   \
    return tol * (longer > 1.0 ? longer : 1.0);                                                  \
  }                                                                                              \
  QUALIFIER long long tensord_probabilities_error(const double* p, long long len, double tol,    \
                                                  double* sum) {                                 \
    double s = 0;                                                                                \
    for (long long i = 0; i < len; ++i) {                                                        \
      if (!(p[i] >= 0.0 && p[i] <= 1.0)) {                                                       \
        *sum = s;                                                                                \
        return i;                                                                                \
      }                                                                                          \
      s += p[i];                                                                                 \
    }                                                                                            \
    *sum = s;                                                                                    \
    return fabs(s - 1.0) > tensord_sum_allowance(tol, len) ? len : -1;                           \
  }                                                                                              \
  template <class Next>                                                                          \
  QUALIFIER void tensord_choose(Next& next, long long pop, const double* p, bool replace,        \
                                long long k, long long* dst, long long* pool, double* weights) { \
    if (p == 0 && replace) {                                                                     \
      for (long long i = 0; i < k; ++i) dst[i] = tensord_below(next(), pop);                     \
    } else if (p == 0) {                                                                         \
      for (long long i = 0; i < pop; ++i) pool[i] = i;                                           \
      for (long long i = 0; i < k; ++i) {                                                        \
        const long long j = i + tensord_below(next(), pop - i);                                  \
        const long long t = pool[i];                                                             \
        pool[i] = pool[j];                                                                       \
        pool[j] = t;                                                                             \
        dst[i] = pool[i];                                                                        \
      }                                                                                          \
    } else if (replace) {                                                                        \
      double total = 0;                                                                          \
      for (long long m = 0; m < pop; ++m) total += p[m];                                         \
      for (long long i = 0; i < k; ++i) {                                                        \
        dst[i] = tensord_pick_category(p, pop, next(), total);                                   \
      }                                                                                          \
    } else {                                                                                     \
      for (long long m = 0; m < pop; ++m) weights[m] = p[m];                                     \
      for (long long i = 0; i < k; ++i) {                                                        \
        double total = 0;                                                                        \
        for (long long m = 0; m < pop; ++m) total += weights[m];                                 \
        dst[i] = tensord_pick_category(weights, pop, next(), total);                             \
        weights[dst[i]] = 0;                                                                     \
      }                                                                                          \
    }                                                                                            \
  }                                                                                              \
  template <class Next, class I>                                                                 \
  QUALIFIER void tensord_permute(Next& next, long long n, I* row) {                              \
    for (long long i = 0; i < n; ++i) row[i] = (I)i;                                             \
    for (long long i = n - 1; i > 0; --i) {                                                      \
      const long long j = tensord_below(next(), i + 1);                                          \
      const I t = row[i];                                                                        \
      row[i] = row[j];                                                                           \
      row[j] = t;                                                                                \
    }                                                                                            \
  }

#define TENSORD_CATEGORICAL_STEP_SOURCE(qualifier) \
  TENSORD_MRG_EXPAND_TO_STRING(TENSORD_CATEGORICAL_STEP(qualifier))
