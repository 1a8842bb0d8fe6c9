// Convolution (Theano's AbstractConv2d/3d and their gradients): how conv, conv_grad_inputs and
// conv_grad_weights read their attributes and size their operands, shared by type inference,
// the shape rules and every provider's kernels.
//
// The three ops take the same attributes, so a gradient node is always the exact adjoint of the
// forward node it came from:
//   conv(input, filters)                         input (N, C, *in), filters (OC, C/groups, *k)
//   conv_grad_inputs(filters, topgrad, in_shape)  -> input's gradient, in_shape = input.shape[2:]
//   conv_grad_weights(input, topgrad, k_shape)    -> filters' gradient, k_shape = filters.shape[2:]
// The spatial rank is input.ndim - 2 (1, 2 or 3). The optimizer's conv_epilogue pass makes a
// fourth, which no gradient reaches (it runs after differentiation):
//   conv_fused(input, filters, bias; activation)  activation(conv + bias), bias per out channel
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

enum class BorderMode { kValid, kFull, kHalf, kExplicit };

struct ConvAttrs {
  int nd = 2;  // spatial dims
  BorderMode border = BorderMode::kValid;
  std::vector<int64_t> pad;        // kExplicit only: zeros added on both sides of each dim
  std::vector<int64_t> subsample;  // strides
  std::vector<int64_t> dilation;   // 1: dense filter
  int64_t groups = 1;
  // True: a true convolution (the filter is flipped spatially, Theano's default); false: a
  // cross-correlation, what oneDNN and cuDNN compute natively.
  bool flip = true;
  // conv_fused only: relu(x) = max(x, 0) applied after the bias (else the identity).
  bool relu = false;

  // The zeros added on each side of spatial dim `d` for a filter of `k` taps there.
  int64_t Pad(int d, int64_t k) const;
  // The filter's extent with dilation: (k - 1) * dilation + 1.
  int64_t Dilated(int d, int64_t k) const { return (k - 1) * dilation[d] + 1; }
};

// The node's attributes, checked (lengths equal to the spatial rank, positive strides,
// dilations and groups, non-negative pads).
absl::StatusOr<ConvAttrs> GetConvAttrs(const ir::Apply& node);

// Every size of one convolution, resolved at run time from the operands' shapes.
struct ConvGeometry {
  int64_t batch = 0, channels = 0, out_channels = 0, groups = 1;
  std::vector<int64_t> in, kernel, out, stride, pad, dilation;
  runtime::Shape InputShape() const;
  runtime::Shape FilterShape() const;
  runtime::Shape OutputShape() const;
};

// The geometry of conv(input, filters) for an input of `input` shape and filters of `filters`
// shape; errors name `op` and what does not fit (channels, groups, a filter larger than the
// padded input).
absl::StatusOr<ConvGeometry> MakeConvGeometry(const ConvAttrs& a, const runtime::Shape& input,
                                              const runtime::Shape& filters, const char* op);
// The same, checked against the gradient `topgrad` the node was given.
absl::Status CheckTopGrad(const ConvGeometry& g, const runtime::Shape& topgrad, const char* op);

// The geometry a conv-family node's operands describe, checked: conv and conv_fused from the
// input's and filters' shapes; a gradient from its two tensors' shapes and the spatial shape it
// was given (in[2], an int vector in host memory), checked against the gradient it takes.
absl::StatusOr<ConvGeometry> OperandGeometry(const ConvAttrs& a, const std::string& op,
                                             std::span<const runtime::Tensor* const> in);

// conv_fused's bias checked against the result: its dtype, and `channels` values or one.
absl::Status CheckConvBias(const runtime::Tensor& bias, DType result, int64_t channels);

// A geometry's spatial dims padded to three in front (size 1, one tap, stride 1, no pad), so
// that one loop nest or one kernel serves 1-d, 2-d and 3-d convolutions; the layout of the CUDA
// kernels' parameters (int64 fields in this order).
struct ConvDims3 {
  int64_t in[3], k[3], out[3], s[3], p[3], d[3];
  int64_t in_size, taps, out_size;        // products over the spatial dims
  int64_t group_in, group_out, col_rows;  // channels per group; col_rows = group_in * taps
};
ConvDims3 PaddedTo3(const ConvGeometry& g);

}  // namespace tensord::ops
