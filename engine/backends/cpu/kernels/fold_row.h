// Folding contiguous rows in independent lanes, shared by the reduction kernels
// (kernels/reductions*.cc).
#pragma once

#include <cstdint>

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

#if defined(__x86_64__) && defined(__GNUC__)
#define TENSORD_FOLD_CLONES [[gnu::target_clones("avx2", "default")]]
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

}  // namespace tensord::cpu
