// dot -> gemm: a sum with a matrix product among its terms becomes Theano's Gemm
// (ops/defs/gemm.cc), so BLAS adds the other term while it writes the product:
//   z + dot(x, y)              -> gemm(z, 1, x, y, 1)
//   z - a * dot(x, y)          -> gemm(z, -a, x, y, 1)
//   b * z + a * dot(x, y) + w  -> add(gemm(z, a, x, y, b), w)
// tensordot of two matrices over one pair of axes (as gradients of dot build it: x.T @ g) is a
// product of transposed views. Scales are 0-d; x and y are matrices of the sum's float dtype; z
// has at most two dims and broadcasts (a bias row): the kernel copies it into the output first.
// The product and its scaling must have no other use (else the product is needed anyway).
// It runs before fusion, which would otherwise swallow the sum into a composite.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeGemmPass();

}  // namespace tensord::passes
