// Pooling (Theano's theano.tensor.signal.pool: Pool, MaxPoolGrad / AveragePoolGrad and
// DownsampleFactorMaxGradGrad): how pool, pool_grad and pool_grad_grad read their attributes and
// size their windows, shared by type inference, the shape rules and the kernels.
//
//   pool(x)                 pools the last len(ws) dims of x (any leading dims)
//   pool_grad(x, gz)        x's gradient given the pooled output's gradient gz
//   pool_grad_grad(x, ggx)  max mode: ggx read at each window's argmax (pool_grad's adjoint)
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

enum class PoolMode { kMax, kSum, kAverageIncPad, kAverageExcPad };

struct PoolAttrs {
  int nd = 2;  // pooled (trailing) dims
  std::vector<int64_t> ws, stride, pad;
  bool ignore_border = true;
  PoolMode mode = PoolMode::kMax;

  // Output windows along pooled dim `d` of an input of size `size` (Theano's out_shape).
  int64_t OutSize(int d, int64_t size) const;
};

absl::StatusOr<PoolAttrs> GetPoolAttrs(const ir::Apply& node);

// Window `j` along one pooled dim, in input coordinates: the real elements [lo, hi) it covers
// and, for average_inc_pad, its length counting the padding (Theano's region slices).
struct PoolWindow {
  int64_t lo, hi, padded_len;
};
std::vector<PoolWindow> PoolWindows(const PoolAttrs& a, int d, int64_t size);

// pool's output shape for an input of shape `x`: its leading dims, then OutSize of each pooled
// dim.
runtime::Shape PooledShapeOf(const PoolAttrs& a, const runtime::Shape& x);

// The second operand of pool_grad (the pooled output's gradient: the pooled shape) or
// pool_grad_grad (x's shape), checked against x.
absl::Status CheckPoolGradient(const std::string& op, const PoolAttrs& a, const runtime::Shape& x,
                               const runtime::Shape& gradient);

}  // namespace tensord::ops
