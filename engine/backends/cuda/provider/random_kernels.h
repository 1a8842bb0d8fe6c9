// Random streams on the CUDA provider: mrg_uniform and random_normal (engine/ops/defs/random.cc)
// draw on the device the numbers the host draws, from the same MRG31k3p state laid out as
// Theano's (backends/cpu/random_mrg.h: draw j from stream j % streams). One thread per stream
// advances it over its draws j = s, s + streams, ... (Theano's GPU kernels do the same), so a
// state of many streams fills a GPU and the samples equal the host's bit for bit; normals
// then transform the uniforms as the host does (Box-Muller in the sample's dtype; CUDA's log,
// sin and cos are within a few ULP of the host's, not equal to them). The sample's size is read
// on the host (HostInputs). random_binomial and the categorical ops stay on the host.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Whether `node` is a random op the device draws: mrg_uniform or random_normal.
bool IsDeviceSampling(const ir::Apply& node);

// The kernels' source for samples of `dtype` (float32 or float64): tensord_mrg_uniform(state,
// row stride, column stride, new state, out, n, streams) and tensord_box_muller(u, out, n).
std::string SamplingSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeSamplingKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
