// Convolution on a CUDA device (conv, conv_fused, conv_grad_inputs, conv_grad_weights; see
// engine/ops/defs/conv.h) as im2col + cuBLAS, the way Theano's GpuCorrMM computed it where cuDNN
// was not used: every geometry the host takes (1 to 3 spatial dims, strides, dilations, pads,
// groups, flipped or not), float32 and float64.
//
// The batch goes in chunks of images whose columns and outputs fit kColumnBytes. For a chunk of m
// images the columns are one matrix of (channels * taps) rows by m * out_size columns (column n *
// out_size + o: image n's output position o), so each group of a pass is one product with the whole
// chunk as its long dim:
//   forward         y^T (out_channels, m * out_size) = w · columns(x)
//   gradient of x   columns = w^T · dy^T, then each input element gathers its columns
//   gradient of w   dw += dy^T · columns(x)^T
// where dy^T / y^T are the images' outputs side by side (a transposing copy). Gathering (one
// thread per input element summing the columns that read it) needs no atomic add and gives the
// same sum on every run. A true convolution (filter_flip) reads its taps reversed as it builds
// the columns, so the filters and their gradient keep their layout. conv_fused's bias and relu
// are applied as y^T is copied into y. The spatial shape a gradient is given is read on the host.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Most bytes of columns and outputs one pass holds (a chunk holds at least one image).
constexpr int64_t kColumnBytes = int64_t{256} << 20;
// A smaller budget, so that tests run small batches in several chunks; 0 restores kColumnBytes.
void SetColumnBytesForTesting(int64_t bytes);

// Whether the device runs `node`: a conv-family op whose operands (and bias) are float32 or
// float64 of the output's dtype (the host would cast others).
bool IsDeviceConv(const ir::Apply& node);

// The kernels of ConvSource: tensord_conv_im2col, tensord_conv_col2im, tensord_conv_top_columns
// (dy into dy^T) and tensord_conv_output (y^T into y, with a bias and relu when given).
absl::StatusOr<std::string> ConvSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeConvKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
