// conv + bias (+ relu) -> conv_fused: a convolution whose result is summed with a per-channel
// bias, and then possibly passed through max(., 0), becomes one conv_fused node
// (ops/defs/conv.h), which oneDNN computes with its bias and relu post-op as it writes the
// output, instead of two more passes over it:
//   add(conv(x, w), b)                 -> conv_fused(x, w, b; activation='identity')
//   add(conv(x, w), b, c)              -> add(conv_fused(x, w, b), c)
//   maximum(conv_fused(x, w, b), +0)   -> conv_fused(x, w, b; activation='relu')
// b broadcasts along every dim but the channels (Theano's b.dimshuffle('x', 0, 'x', 'x')).
// The convolution (and, for relu, the biased sum) must have no other reader of its values
// (readers of its shape only, as the gradients' sum_to_like, move to the fused node): a
// training graph keeps the pre-activation for relu's gradient, so there only the bias is fused.
// It runs before fusion, which would otherwise swallow the add and the maximum into a composite.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeConvEpiloguePass();

}  // namespace tensord::passes
