// An elementwise expression of a matrix product -> dot_composite(x, y, ...): the bias and
// activation of a dense layer, tanh(x W + b); the gradient of tanh times the product of the
// backward pass, (1 - h^2) * (g W^T). The expression (a composite, or one fusable op) becomes
// one node with the product, whose kernel applies it to each block of the product's rows right
// after the block is computed, on the same thread (while it may still be in that core's
// caches), instead of a pass of its own over the product (ops/defs/composite.h). The product is
//   - dot(x, y) or tensordot(x, y) contracting one axis of each (the gradient of dot) of two
//     matrices, or gemm(z, alpha, x, y, beta), whose alpha * dot + beta * z the program then
//     computes first (the gemm pass made dot(x, W) + b a gemm before fusion);
//   - of the expression's dtype, and read by nothing else (readers of its shape only move to
//     the fused node).
// The expression reduces nothing, and its other inputs do not broadcast the product to a larger
// shape (a bias row, a 0-d value, another m x n array are fine) nor are computed from it.
// It runs after fusion (which made the composites) and before inplace; and before placement,
// so on a context whose provider has no dot_composite kernel (CUDA, once it runs products and
// composites) it would have to be excluded there.
//
// One difference from the unfused graph: a gemm whose alpha is 0 at run time does not read x
// and y (BLAS), so a NaN there does not reach its result; the epilogue computes 0 * dot(x, y),
// which is NaN then, as NumPy's 0 * (x @ y).
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeGemmEpiloguePass();

}  // namespace tensord::passes
