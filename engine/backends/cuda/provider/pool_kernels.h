// Pooling on a CUDA device (pool, pool_grad, pool_grad_grad; see engine/ops/defs/pool.h): every
// mode, window, stride and pad the host takes, over 1 to 3 trailing dims, float32 and float64.
//
// One thread per output element for pool and pool_grad_grad, walking its window in C order as
// the host does: a sum adds in the host's order and max keeps the host's first maximum (or first
// NaN). pool_grad gathers: one thread per input element sums, in the windows' C order, what
// each window covering it gives it (max: the window's gradient where the element is the
// window's first maximum; the other modes: its share), so overlapping windows need no atomic
// add. Max pooling and its gradients give the host's bits (a gradient of -0 may come out +0,
// as on some of the host's paths); the averages' shares may add in another order than the
// host's, which changes last bits.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Whether the device runs `node`: a pooling op over float32 or float64 operands of one dtype.
bool IsDevicePool(const ir::Apply& node);

// The kernels tensord_pool, tensord_pool_grad and tensord_pool_grad_grad.
absl::StatusOr<std::string> PoolSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakePoolKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
