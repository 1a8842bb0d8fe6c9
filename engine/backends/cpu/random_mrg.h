// MRG31k3p (L'Ecuyer and Touzin, 2000), the generator of Theano's rng_mrg, with Theano's layout:
// a generator state is an int32 matrix of k streams x 6 components (x11 x12 x13 x21 x22 x23),
// and the j-th number a kernel draws comes from stream j % k. Seeding and the 2^72 / 2^134
// jumps between streams happen in the clients (Theano's MRG_RandomStreams does them in Python).
#pragma once

#include <cstdint>

#include "engine/backends/cpu/categorical_step.h"
#include "engine/backends/cpu/mrg_step.h"
#include "engine/common/status.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

// The moduli (mrg_step.h's step has them as literals; tests check it against these).
inline constexpr int32_t kMrgM1 = 2147483647;  // 2^31 - 1
inline constexpr int32_t kMrgM2 = 2147462579;  // 2^31 - 21069

namespace mrg_step {
TENSORD_MRG_STEP(inline)
TENSORD_CATEGORICAL_STEP(inline)
}  // namespace mrg_step

// Advances one stream (6 int32 components, in place) and returns Theano's raw sample: an integer
// in [1, M1], so raw * 2^-31 lies in the open interval (0, 1).
int32_t MrgNextRaw(int32_t* stream);

// Draws from a k x 6 state in place, stream j % k for the j-th draw.
class MrgStreams {
 public:
  MrgStreams(int32_t* state, int64_t streams) : state_(state), streams_(streams) {}

  int32_t NextRaw() {
    int32_t* stream = state_ + 6 * next_;
    if (++next_ == streams_) next_ = 0;
    return MrgNextRaw(stream);
  }
  // Theano's conversions (mrg_step.h).
  double NextDouble() { return mrg_step::tensord_mrg_double(NextRaw()); }
  float NextFloat() { return mrg_step::tensord_mrg_float(NextRaw()); }
  // A uniform integer in [0, m) for m >= 1 (31 bits of randomness: biased for huge m).
  int64_t NextBelow(int64_t m) { return mrg_step::tensord_below(NextDouble(), m); }
  // The next uniform as a double: what categorical_step.h's draws call as next().
  double operator()() { return NextDouble(); }

 private:
  int32_t* state_;
  int64_t streams_;
  int64_t next_ = 0;
};

// INVALID_ARGUMENT naming `op` unless `state` is a generator state: an int32 matrix with 6
// columns and at least one row (its metadata alone is read: it may be on a device).
absl::Status CheckMrgState(const runtime::Tensor& state, const char* op);

// Checks a generator state input (CheckMrgState) and makes `out` a contiguous copy of it for
// the kernel to advance.
absl::Status CopyMrgState(const runtime::Tensor& state, runtime::Tensor& out, const char* op);

}  // namespace tensord::cpu
