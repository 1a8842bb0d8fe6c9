// The CUDA provider's shape kernels, whose metadata inputs are read on the host (HostInputs):
// reshape and flatten (the host's view; a value not contiguous copied so first), subtensor
// (basic indexing: the host's view) and arange (its values made on the device from bounds on
// the host).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeReshapeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);
// subtensor: the host's kernel, which makes a view from x's metadata and its index scalars.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeViewKernel(const ir::Apply& node);
std::unique_ptr<backends::Kernel> MakeArangeKernel(DType dtype,
                                                   std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
