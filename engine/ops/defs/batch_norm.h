// Batch normalization's operands (batch_norm.cc declares batch_norm_train and
// batch_norm_train_grad): the statistics' shape and the checks every provider's kernel makes,
// so that each refuses bad operands in the same words.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

// x's shape with 1 on the normalized axes: the statistics' shape, which the parameters
// broadcast to.
runtime::Shape BatchNormStatsShape(const runtime::Shape& x, const std::vector<int64_t>& axes);

// A parameter `what` of `op` (gamma, beta, the mean or invstd a gradient is given), of x's rank,
// checked to broadcast to the statistics' shape.
absl::Status CheckBatchNormParam(const runtime::Shape& param, const runtime::Shape& stats,
                                 const char* op, const char* what);

// batch_norm_train_grad's output gradient, checked to have x's shape.
absl::Status CheckBatchNormGradient(const runtime::Shape& dy, const runtime::Shape& x);

}  // namespace tensord::ops
