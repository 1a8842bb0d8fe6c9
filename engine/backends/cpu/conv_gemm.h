// Convolution as im2col + GEMM on OpenBLAS, for float and double: the float64 path (oneDNN has
// no float64 convolution) and the reference the oneDNN path is tested beside. Operands are
// contiguous, in plain layouts (batch, channels, *spatial) and (out_channels, channels/groups,
// *taps); filters arrive already flipped where the op convolves rather than correlates.
#pragma once

#include "engine/ops/defs/conv.h"

namespace tensord::cpu {

// y = conv(x, w), cross-correlation.
template <typename T>
absl::Status ConvForwardGemm(const ops::ConvGeometry& g, const T* x, const T* w, T* y);
// dx = the gradient of x given dy (the transposed convolution).
template <typename T>
absl::Status ConvBackwardDataGemm(const ops::ConvGeometry& g, const T* w, const T* dy, T* dx);
// dw = the gradient of w given x and dy.
template <typename T>
absl::Status ConvBackwardWeightsGemm(const ops::ConvGeometry& g, const T* x, const T* dy, T* dw);

}  // namespace tensord::cpu
