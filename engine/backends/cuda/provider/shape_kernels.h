// The CUDA provider's shape kernels, whose metadata inputs are read on the host (HostInputs):
// reshape (the host's view; a value not contiguous copied so first) and arange (its values
// made on the device from bounds on the host).
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeReshapeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);
std::unique_ptr<backends::Kernel> MakeArangeKernel(DType dtype,
                                                   std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
