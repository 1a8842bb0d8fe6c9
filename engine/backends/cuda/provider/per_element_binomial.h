// random_binomial of per-element n or p on the CUDA provider (an RBM's hidden units sampled as
// binomial(n=1, p=sigmoid(...)), p living on the device): the host's numbers, from the same
// MRG31k3p state. Draw i (C order of the size) takes 0, 1 or n_i uniforms (binomial_step.h),
// the uniforms of the draws before it first, so where it starts depends on every earlier draw's
// parameters. Three passes over lanes of draws (program_kernels.h's Lanes): each lane checks its
// draws' parameters (the first bad one reported, then given the host's check and words) and
// counts their uniforms; a scan turns the counts into each lane's first uniform, with the total
// and the O(n) draws' steps read back (one read: the host bounds a call's steps); then, the
// uniforms drawn into scratch by a thread per stream (random_kernels.h), each lane makes its
// draws in order. n and p, of any integer and any numeric dtype, are read on the device
// through their broadcast strides, converted as the host casts them (to int64 and float64).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ops/defs/random_util.h"

namespace tensord::cuda {

// The kernels' source for samples of `dtype`, n of `n_dtype` and p of `p_dtype`, over a size of
// `rank` dims: tensord_binomial_uniforms_chunk (DrawUniforms'), tensord_binomial_count,
// tensord_binomial_scan, tensord_binomial_totals and tensord_binomial_draws.
std::string PerElementBinomialSource(DType dtype, DType n_dtype, DType p_dtype, int rank);

std::unique_ptr<backends::Kernel> MakePerElementBinomialKernel(
    ops::random::SampleAttrs attrs, DType n_dtype, DType p_dtype,
    std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
