// What the CPU kernels of the random ops share (kernels/random.cc, kernels/random_discrete.cc):
// reading the size and parameters, bounding the work of one call, starting the streams.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/backends/cpu/kernels/register.h"
#include "engine/backends/cpu/random_mrg.h"
#include "engine/ops/defs/random_util.h"

namespace tensord::cpu::sampling {

using ops::random::SampleAttrs;

// The most elementary steps (Bernoulli draws, category walks) one op may take per call: the
// exact O(n) algorithms for large binomial n, multinomial n and weighted choice without
// replacement would otherwise let one request occupy the server for hours.
inline constexpr double kMaxDrawSteps = 1 << 30;

// INVALID_ARGUMENT naming the op when `steps` exceeds kMaxDrawSteps.
absl::Status CheckDrawSteps(double steps, const char* op, const char* what);

// random_binomial's parameters of one draw, checked as NumPy checks them.
absl::Status CheckBinomialParams(int64_t n, double p, const char* op);

// One row of probabilities checked (categorical_step.h's tensord_probabilities_error): its sum,
// or INVALID_ARGUMENT naming `op`, `what` and the offending value or sum.
absl::StatusOr<double> CheckProbabilities(const double* p, int64_t len, double tol, const char* op,
                                          const char* what);

// INVALID_ARGUMENT naming `op` and `what` unless a parameter of `param_shape` broadcasts (NumPy's
// rules) to the sample shape `shape`.
absl::Status CheckBroadcastsTo(const runtime::Shape& param_shape, const runtime::Shape& shape,
                               const char* op, const char* what);

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
    TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, ops::random::ReadSampleAttrs(node, float_only));
    return std::unique_ptr<Kernel>(new K(attrs));
  };
}

}  // namespace tensord::cpu::sampling
