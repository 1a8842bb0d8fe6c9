// Shared pieces of the random ops (random.cc, random_discrete.cc): every one takes a generator
// state (an int32 streams x 6 matrix, see backends/cpu/random_mrg.h; their kernels share
// backends/cpu/kernels/random_sampling.h) and an int vector `size`
// first, and returns (new state, sample). Attributes: `dtype` of the sample and `ndim`, the
// length of `size` (types are fixed at compile time, as Theano's get_vector_length).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ops/op_def.h"

namespace tensord::ops::random {

struct SampleAttrs {
  DType dtype;
  int64_t ndim;
};

// Reads `dtype` and `ndim`; `float_only` refuses non-float dtypes (uniform, normal).
absl::StatusOr<SampleAttrs> ReadSampleAttrs(const ir::Apply& node, bool float_only);

// Checks the state (int32 matrix) and size (int vector) inputs and returns the output types:
// the state's type, then a sample of `dtype` with `sample_ndim` non-broadcastable dims.
absl::StatusOr<std::vector<ir::Type>> StateAndSampleTypes(const ir::Apply& node, DType dtype,
                                                          int64_t sample_ndim);

// `d` tagged as a random op (its outputs draw from a stream, so they are never constants).
// A sample's dtype and rank are attributes of every random op (random_choice adds `replace`).
inline OpDef Random(OpDef d) {
  d.tags |= kTagRandom;
  d.attrs.insert(d.attrs.begin(), {"dtype", "ndim"});
  return d;
}

// How far a row of probabilities may sum from 1: float32 rows carry rounding of ~1e-7 per term.
double SumTolerance(DType dtype);

}  // namespace tensord::ops::random
