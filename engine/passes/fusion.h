// Elementwise fusion: maximal groups of connected elementwise nodes become one `composite` node
// (ops/defs/composite.h) that reads its inputs and writes its output once, instead of one pass
// over memory per node.
//
// A group grows from a root (an elementwise node whose value is float32/float64) through the
// producers of its inputs, as Theano's FusionOptimizer: a producer joins when it is fusable
// (OpDef::scalar_opcode is set), computes in the group's dtype, and every use of its output is
// inside the group (an intermediate that is a graph output or feeds any other node stays out,
// so composites have one output and nothing is computed twice). Inside a group comparisons give
// 0/1 in the group's dtype (exact: a bool cast to a float is 0 or 1); they join only when they
// compare in that dtype. One-element constants (0-d, or (1, 1) as clients pad them) become
// literals of the program. Groups of a single node are left alone (no pass over memory to save).
//
// Reduction fusion, right after: a full reduction (sum, mean, max or min over every axis, in the
// expression's dtype) of a composite, or of a single fusable node, that nothing else reads
// becomes the composite with `reduce`: the expression's value is folded as it is computed and
// never stored ((x * y).sum() writes no x * y). NanGuardMode leaves it out, since a folded
// reduction would hide which node first produced a NaN.
//
// Broadcasting stays exact: every group input reaches the root through elementwise nodes, each
// of whose output shape is the broadcast of its inputs', so the root's shape is the broadcast of
// all group inputs, which is the composite's shape.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeFusionPass();
std::unique_ptr<Pass> MakeReductionFusionPass();

}  // namespace tensord::passes
