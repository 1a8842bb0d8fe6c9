// Random streams on the CUDA provider: mrg_uniform and random_normal (engine/ops/defs/random.cc)
// draw on the device the numbers the host draws, from the same MRG31k3p state laid out as
// Theano's (backends/cpu/random_mrg.h: draw j from stream j % streams). One thread per stream
// advances it over its draws j = s, s + streams, ... (Theano's GPU kernels do the same), so a
// state of many streams fills a GPU and the samples equal the host's bit for bit; normals
// then transform the uniforms as the host does (Box-Muller in the sample's dtype; CUDA's log,
// sin and cos are within a few ULP of the host's, not equal to them). The sample's size is read
// on the host (HostInputs). random_binomial of one n and one p (read on the host; a dropout
// mask) draws on the device too: the uniforms its draws take (binomial_step.h: 0, 1 or n each)
// in float64, a thread per stream, in chunks of draws whose uniforms fit 64 MiB, then a thread
// per draw turns its block of them into its count by the host's algorithm; of per-element n or p
// it is per_element_binomial.h's. The categorical draws are categorical_kernels.h's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"
#include "engine/runtime/tensor.h"

namespace tensord::cuda {

// Whether `node` is a random op the device draws: mrg_uniform, random_normal, or
// random_binomial (IsDeviceBinomial: of one n and one p, read on the host with the size, or of
// per-element ones, per_element_binomial.h).
bool IsDeviceSampling(const ir::Apply& node);
bool IsDeviceBinomial(const ir::Apply& node);
// A binomial's inputs read on the host: the size, and one n and one p.
std::vector<int> BinomialHostInputs(const ir::Apply& node);

// tensord_binomial_uniform_chunk(state, row stride, column stride, new state, u, first, count,
// streams) and tensord_binomial(u, out, draws, n, p, per_draw) for counts of `dtype` (any but
// float16).
std::string BinomialSource(DType dtype);

// The kernels' source for samples of `dtype` (float32 or float64): tensord_mrg_uniform(state,
// row stride, column stride, new state, out, n, streams) and tensord_box_muller(u, out, n).
std::string SamplingSource(DType dtype);

// What the categorical draws (categorical_kernels.h) share with these:
// - a draw's outputs shaped on the device: the new state as the state (checked to be one, on the
//   device) and the sample of `shape`;
absl::Status ShapeSampleOutputs(const runtime::Tensor& state, const runtime::Shape& shape,
                                DType dtype, runtime::Tensor& new_state, runtime::Tensor& sample,
                                const char* op);
// - the source of `<name>(state, row stride, column stride, new state, u, first, count,
//   streams)`, the MRG31k3p step with it: uniforms [first, first + count) of the host's order in
//   float64 into u[0, count), a thread per stream, each read from `state` and left in `new_state`;
std::string UniformChunkSource(const std::string& name);
// - its launch: from `state` for the first chunk (first == 0), from `new_state` after. Every
//   stream runs, drawing or not: it carries itself into the new state;
// - the most uniforms a draw holds in scratch at once (64 MiB of them): longer draws go in
//   chunks of the host's order.
constexpr int64_t kMostScratchUniforms = (int64_t{64} << 20) / 8;
absl::Status DrawUniforms(DeviceRuntime& device, KernelHandle kernel, const runtime::Tensor& state,
                          runtime::Tensor& new_state, void* u, int64_t first, int64_t count);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeSamplingKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
