// Inplace: lets a node's output overwrite the buffer of an input that is dead after it (Theano's
// destroy_map), so a chain of elementwise nodes works in one buffer instead of allocating and
// touching a new one per node. The pass only marks: attribute `inplace` = the input's index
// (printed as Elemwise{Add}[(0, 0)], Elemwise{Composite{...}}[(0, 0)], Gemm{inplace}). The
// executable makes it happen (engine/compile/inplace_plan.h), re-checking what only it knows.
//
// A node is marked when it is elementwise (a fusable op, not a comparison), a composite or a
// gemm, and one of its inputs at a position its kernel reads before writing (any for unary and
// map kernels; 0 or 1 of an n-ary add/mul, whose fold writes its output before reading input 2;
// z of gemm, when z is not also x or y) is
//   - computed by a node that writes fresh memory (elementwise, composite, gemm, dot), so never a
//     graph input (a caller's buffer), a shared variable, a constant, or a view of any of them;
//   - not a graph output (update values are graph outputs while passes run);
//   - of the output's dtype and rank, without broadcastable dims the output lacks;
//   - used by no later node (this node is its last reader).
// It runs last: any rewrite after it could add a reader of a destroyed value.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeInplacePass();

}  // namespace tensord::passes
