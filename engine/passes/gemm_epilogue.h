// composite(..., dot(x, y), ...) -> dot_composite(x, y, ...): a fused elementwise expression of
// a matrix product (the bias and activation of a dense layer, tanh(x W + b); the gradient of
// tanh times the product of the backward pass, (1 - h^2) * (g W^T)) becomes one node whose
// kernel applies the expression to each block of the product's rows while the block is in
// cache, on the thread that computed it, instead of a pass of its own over the product
// (ops/defs/composite.h). It applies where
//   - the product is dot or tensordot (one axis each, as the gradient of dot makes) of two
//     matrices, of the composite's dtype, and nothing else reads its values (readers of its
//     shape only move to the fused node);
//   - the composite reduces nothing and its other inputs do not broadcast the product to a
//     larger shape (a bias row, a 0-d value, another m x n array are fine);
//   - no other input is computed from the product.
// It runs after fusion (which made the composite) and before inplace.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeGemmEpiloguePass();

}  // namespace tensord::passes
