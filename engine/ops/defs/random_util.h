// Shared pieces of the random ops (random.cc, random_discrete.cc): every one takes a generator
// state (an int32 streams x 6 matrix, see backends/cpu/random_mrg.h) and an int vector `size`
// first, and returns (new state, sample). Attributes: `dtype` of the sample and `ndim`, the
// length of `size` (types are fixed at compile time, as Theano's get_vector_length).
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backends/cpu/random_mrg.h"
#include "engine/ops/op_def.h"

namespace tensord::ops::random {

// The most elementary steps (Bernoulli draws, category walks) one op may take per call: the
// exact O(n) algorithms for large binomial n, multinomial n and weighted choice without
// replacement would otherwise let one request occupy the server for hours.
inline constexpr double kMaxDrawSteps = 1 << 30;

// INVALID_ARGUMENT naming the op when `steps` exceeds kMaxDrawSteps.
absl::Status CheckDrawSteps(double steps, const char* op, const char* what);

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

// The requested sample shape: `ndim` non-negative ints whose product fits the tensor limit.
absl::StatusOr<runtime::Shape> ReadSize(const runtime::Tensor& size, int64_t ndim, const char* op);

// `param` broadcast (NumPy rules) to `shape`, as a contiguous vector; `T` is param's dtype
// (the op's input_dtypes cast it). INVALID_ARGUMENT when it does not broadcast to `shape`.
template <typename T>
absl::StatusOr<std::vector<T>> BroadcastParam(const runtime::Tensor& param,
                                              const runtime::Shape& shape, const char* op,
                                              const char* what);

// Copies the state to out[0] (the new state) and returns streams drawing from it.
absl::StatusOr<cpu::MrgStreams> StartDrawing(const runtime::Tensor& state, runtime::Tensor& out,
                                             const char* op);

// A kernel factory for kernels constructed from SampleAttrs.
template <typename K>
MakeKernelFn SampleKernel(bool float_only) {
  return [float_only](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, ReadSampleAttrs(node, float_only));
    return std::unique_ptr<Kernel>(new K(attrs));
  };
}

// `d` tagged as a random op (its outputs draw from a stream, so they are never constants).
inline OpDef Random(OpDef d) {
  d.tags |= kTagRandom;
  return d;
}

}  // namespace tensord::ops::random
