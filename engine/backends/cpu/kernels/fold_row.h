// Folding contiguous rows in independent lanes, shared by the reduction, batch-norm and
// composite kernels (kernels/reductions*.cc, kernels/batch_norm.cc, composite_kernel.cc).
#pragma once

#include <cstdint>
#include <limits>

#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {

// Each fold: Init<T>() is the identity, Fold(acc, v) the new accumulator; kHasIdentity false
// makes folding zero elements an error, as in NumPy; kWidenFloat32: float32 accumulates in
// float64.
struct SumFold {
  static constexpr bool kHasIdentity = true;
  static constexpr bool kWidenFloat32 = true;
  template <class T>
  static T Init() {
    return T{};
  }
  template <class T>
  static T Fold(T a, T v) {
    return static_cast<T>(a + v);
  }
};

struct MaxFold {
  static constexpr bool kHasIdentity = false;
  static constexpr bool kWidenFloat32 = false;
  template <class T>
  static T Init() {
    if constexpr (std::numeric_limits<T>::has_infinity) {
      return -std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::lowest();
    }
  }
  // NaN wins, as in NumPy. Three selects and no && / ||, which would be branches: written so
  // the compiler turns them into compare-and-blend over whole vectors (4x faster over a row).
  template <class T>
  static T Fold(T a, T v) {
    const T larger = v > a ? v : a;
    const T or_nan_v = IsNan(v) ? v : larger;
    return IsNan(a) ? a : or_nan_v;
  }
};

struct MinFold {
  static constexpr bool kHasIdentity = false;
  static constexpr bool kWidenFloat32 = false;
  template <class T>
  static T Init() {
    if constexpr (std::numeric_limits<T>::has_infinity) {
      return std::numeric_limits<T>::infinity();
    } else {
      return std::numeric_limits<T>::max();
    }
  }
  template <class T>
  static T Fold(T a, T v) {  // as MaxFold's
    const T smaller = v < a ? v : a;
    const T or_nan_v = IsNan(v) ? v : smaller;
    return IsNan(a) ? a : or_nan_v;
  }
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TENSORD_FOLD_CLONES [[gnu::target_clones("avx512f", "avx2", "default")]]
#else
#define TENSORD_FOLD_CLONES
#endif

// Folds n contiguous values into kLanes independent accumulators, combined at the end: no fold
// waits for the one before it, so the loop vectorizes (one add per element in order would be
// bound by the add's latency, about 4x slower). Sums round in another order than a serial loop;
// float32 ones still accumulate in double.
template <class Op, class Acc, class T>
TENSORD_FOLD_CLONES Acc FoldRow(const T* s, int64_t n) {
  constexpr int kLanes = 16;
  if (n < kLanes) {
    // A short row (a softmax's 10 classes) would pay more for the lanes' setup and combine than
    // for itself. The same bits: below, every element goes to lane 0 in order, and folding in
    // the other lanes' identities (+0, 1, -inf ...) changes no value.
    Acc a = Op::template Init<Acc>();
    for (int64_t i = 0; i < n; ++i) a = Op::Fold(a, static_cast<Acc>(s[i]));
    return a;
  }
  Acc lanes[kLanes];
  for (Acc& lane : lanes) lane = Op::template Init<Acc>();
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) lanes[k] = Op::Fold(lanes[k], static_cast<Acc>(s[i + k]));
  }
  for (; i < n; ++i) lanes[0] = Op::Fold(lanes[0], static_cast<Acc>(s[i]));
  Acc a = lanes[0];
  for (int k = 1; k < kLanes; ++k) a = Op::Fold(a, lanes[k]);
  return a;
}

// acc[i] = Fold(acc[i], s[i]) over a contiguous row of inputs and one of accumulators: a
// reduction over outer axes (a sum over axis 0) folds whole rows into rows. Written apart, with
// unit strides the compiler can see, so the loop vectorizes.
template <class Op, class Acc, class T>
TENSORD_FOLD_CLONES void FoldInto(Acc* acc, const T* s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] = Op::Fold(acc[i], static_cast<Acc>(s[i]));
}

// FoldInto over `rows` (1 to 4) rows at once, `stride` apart: acc[i] = Fold(acc[i], the rows'
// values at i folded pairwise). Four rows read as four streams keep more loads in flight, and
// the accumulators are read and written once per four rows.
template <class Op, class Acc, class T>
TENSORD_FOLD_CLONES void FoldRowsInto(Acc* acc, const T* s, int64_t stride, int rows, int64_t n) {
  // Only the rows there are: a pointer past the array is undefined even unread.
  const T* s0 = s;
  const T* s1 = rows > 1 ? s + stride : s;
  const T* s2 = rows > 2 ? s + 2 * stride : s;
  const T* s3 = rows > 3 ? s + 3 * stride : s;
  auto v = [](const T* p, int64_t i) { return static_cast<Acc>(p[i]); };
  if (rows == 4) {
    for (int64_t i = 0; i < n; ++i)
      acc[i] =
          Op::Fold(acc[i], Op::Fold(Op::Fold(v(s0, i), v(s1, i)), Op::Fold(v(s2, i), v(s3, i))));
  } else if (rows == 3) {
    for (int64_t i = 0; i < n; ++i)
      acc[i] = Op::Fold(acc[i], Op::Fold(Op::Fold(v(s0, i), v(s1, i)), v(s2, i)));
  } else if (rows == 2) {
    for (int64_t i = 0; i < n; ++i) acc[i] = Op::Fold(acc[i], Op::Fold(v(s0, i), v(s1, i)));
  } else {
    for (int64_t i = 0; i < n; ++i) acc[i] = Op::Fold(acc[i], v(s0, i));
  }
}

// Adds the squared deviations of a contiguous row from `mean` to *sq and the deviations to
// *dev, in independent lanes (as FoldRow) so the loop vectorizes.
template <class T>
TENSORD_FOLD_CLONES void AddDeviations(const T* s, int64_t n, double mean, double* sq,
                                       double* dev) {
  constexpr int kLanes = 8;
  double sq_lanes[kLanes] = {}, dev_lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const double d = static_cast<double>(s[i + k]) - mean;
      sq_lanes[k] += d * d;
      dev_lanes[k] += d;
    }
  }
  for (; i < n; ++i) {
    const double d = static_cast<double>(s[i]) - mean;
    sq_lanes[0] += d * d;
    dev_lanes[0] += d;
  }
  for (int k = 0; k < kLanes; ++k) *sq += sq_lanes[k], *dev += dev_lanes[k];
}

// Adds sum(g) to *sum_g and sum(g * (x - mean)) to *sum_gx over a contiguous row of each,
// in lanes (batch normalization's backward statistics).
template <class T>
TENSORD_FOLD_CLONES void AddGradientSums(const T* g, const T* x, int64_t n, double mean,
                                         double* sum_g, double* sum_gx) {
  constexpr int kLanes = 8;
  double g_lanes[kLanes] = {}, gx_lanes[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int k = 0; k < kLanes; ++k) {
      const double v = static_cast<double>(g[i + k]);
      g_lanes[k] += v;
      gx_lanes[k] += v * (static_cast<double>(x[i + k]) - mean);
    }
  }
  for (; i < n; ++i) {
    g_lanes[0] += static_cast<double>(g[i]);
    gx_lanes[0] += static_cast<double>(g[i]) * (static_cast<double>(x[i]) - mean);
  }
  for (int k = 0; k < kLanes; ++k) *sum_g += g_lanes[k], *sum_gx += gx_lanes[k];
}

}  // namespace tensord::cpu
