// CPU kernel of the composite op (ops/defs/composite.h): the whole fused expression is evaluated
// blockwise, one pass over memory. Dimensions the operands' strides allow are merged first; each
// innermost row is cut into chunks, and every scalar op runs its scalar form's chunk loop
// (engine/ops/scalar_form.h) over a chunk held in small per-thread scratch arrays (contiguous
// inputs are read in place, broadcast ones and literals as scalars), so the loops vectorize and
// there is no per-element dispatch.
//
// Its output may be the same Tensor object as one of its inputs (the executable donates a dead
// input's buffer, see engine/passes/inplace.h): chunk i of every input is read before chunk i of
// the output is written, which is safe when that input has the output's shape and is contiguous;
// otherwise the kernel keeps the input's buffer alive and writes a fresh one.
#pragma once

#include <memory>

#include "engine/backends/kernel.h"
#include "engine/ops/defs/composite.h"
#include "engine/ops/op_def.h"

namespace tensord::cpu {

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeCompositeKernel(
    ops::composite::Program program);

// The kernel, which can also evaluate as a product's epilogue (the dot_composite kernel):
// RunInPlace's `out` is one of the inputs, a contiguous block of the product whose buffer the
// caller owns (others may hold it), with the inputs' broadcast shape; it is overwritten in place.
class CompositeEpilogue : public backends::Kernel {
 public:
  virtual absl::Status RunInPlace(std::span<const runtime::Tensor* const> in,
                                  runtime::Tensor& out) = 0;
};
std::unique_ptr<CompositeEpilogue> MakeCompositeEpilogue(ops::composite::Program program);

}  // namespace tensord::cpu
