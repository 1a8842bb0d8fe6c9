// conv_fused's relu over a plain result, exactly as the maximum op computes max(x, 0) (NaN
// kept, -0 kept, +0 for negatives), split over the intra-op threads.
#pragma once

#include <cstdint>

#include "engine/ops/scalar/arithmetic.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {

template <typename T>
void ReluInPlace(T* out, int64_t n) {
  runtime::ParallelFor(n, 32768, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) out[i] = scalar::Maximum::Apply(out[i], T(0));
  });
}

}  // namespace tensord::cpu
