// The shape rules whole families share (OpDef::infer_shape), named by their declarations.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// NumPy broadcasting of `shapes` (with their broadcastable patterns) to rank `ndim`,
// right-aligned: each dim is the one that is not broadcastable, or, where several are, the first
// that is not 1 at run time.
SymbolicShape BroadcastDims(NodeBuilder& b, std::span<const SymbolicShape> shapes,
                            std::span<const std::vector<bool>> broadcastable, int ndim);

// NumPy broadcasting of the inputs' shapes, right-aligned: each output dim is the one input
// dim that is not broadcastable, or, where several are, the first one that is not 1 at run
// time (elementwise ops, fill, cast, composite).
std::vector<SymbolicShape> BroadcastShape(NodeBuilder& b, const ir::Apply& node,
                                          std::span<const SymbolicShape> in);

// Every output has input `k`'s shape (zero_grad, sort, sum_to_like's model ...).
InferShapeFn ShapeOfInput(int k);

// Input 0's shape without the reduced axes, for every output (sum, max_and_argmax, var ...).
std::vector<SymbolicShape> ReducedShape(NodeBuilder& b, const ir::Apply& node,
                                        std::span<const SymbolicShape> in);

// The entries of an integer vector input as int64 scalars, where the graph says them: a
// constant, a make_vector, or shape(x); empty otherwise (the gradient ops of conv and
// neibs2images take shapes so).
SymbolicShape VectorEntries(NodeBuilder& b, const ir::Variable* v);

// The product of `dims` (1 for none), as an int64 scalar.
ir::Variable* DimsProduct(NodeBuilder& b, std::span<ir::Variable* const> dims);

}  // namespace tensord::ops
