// Convolution and pooling under Theano's names (T.nnet.conv2d, abstract_conv's gradients,
// signal.pool.pool_2d): the server's conv, conv_grad_inputs, conv_grad_weights and pool ops.
// Layouts are Theano's: inputs (batch, channels, *spatial), filters (out_channels,
// channels / num_groups, *taps); pooling works on the last 2 (or 3) dims, whatever precedes.
#ifndef TENSORD_CLIENT_OPS_NNET_H_
#define TENSORD_CLIENT_OPS_NNET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "tensord/graph.h"

namespace tensord::client {

struct ConvOptions {
  // "valid" (no padding), "full" (taps - 1 zeros on each side), "half" (taps / 2); ignored
  // when `pad` is set.
  std::string border_mode = "valid";
  std::vector<int64_t> pad;              // explicit zeros on both sides of each spatial dim
  std::vector<int64_t> subsample;        // strides; empty: 1 per spatial dim
  std::vector<int64_t> filter_dilation;  // empty: 1 per spatial dim
  int64_t num_groups = 1;
  bool filter_flip = true;  // true: a convolution (Theano's default); false: cross-correlation
};

// conv2d of a rank-4 input by rank-4 filters; Conv3d: rank 5.
Var Conv2d(Var input, Var filters, const ConvOptions& options = {});
Var Conv3d(Var input, Var filters, const ConvOptions& options = {});
// The input's gradient given the output's (the transposed convolution), for an input of
// spatial shape `input_spatial_shape` (an int vector, e.g. MakeVector of ShapeI).
Var ConvGradInputs(Var filters, Var output_grad, Var input_spatial_shape,
                   const ConvOptions& options = {});
// The filters' gradient given the input and the output's gradient.
Var ConvGradWeights(Var input, Var output_grad, Var filter_spatial_shape,
                    const ConvOptions& options = {});

struct PoolOptions {
  std::vector<int64_t> stride;  // empty: the window size
  std::vector<int64_t> pad;     // empty: zeros; needs ignore_border
  bool ignore_border = true;    // false keeps the partial windows at the far edges
  std::string mode = "max";     // max | sum | average_inc_pad | average_exc_pad
};

// pool_2d / pool_3d over the last ws.size() dims of x.
Var Pool(Var x, const std::vector<int64_t>& ws, const PoolOptions& options = {});

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_NNET_H_
