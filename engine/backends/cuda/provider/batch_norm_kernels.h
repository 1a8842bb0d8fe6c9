// Batch normalization on a CUDA device (batch_norm_train, batch_norm_train_grad; see
// engine/ops/defs/batch_norm.cc), float32 and float64, over any axes of a value of at most
// kMostFoldDims dims (fold_layout.h), its operands read through their strides.
//
// Each op is two launches, as the host's passes are:
// - per statistic, a block folds its elements in double (its threads strided over them, then a
//   fixed tree, so the same bits every run): the sum, then the squared deviations from the mean
//   (train), or the sums of dy and of dy (x - mean) (gradient); its first thread writes the
//   statistics and the coefficients of the second pass into a scratch row of doubles;
// - a thread per element: out = x * scale + shift, or dx = a dy + b (x - mean) + c, computed in
//   double as the host computes them.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Whether the device runs `node`: batch_norm_train or its gradient over float32 or float64
// operands of one dtype (the host would cast others), of at most kMostFoldDims dims.
bool IsDeviceBatchNorm(const ir::Apply& node);

// The kernels tensord_bn_stats, tensord_bn_normalize, tensord_bn_grad_sums, tensord_bn_grad.
absl::StatusOr<std::string> BatchNormSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeBatchNormKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
