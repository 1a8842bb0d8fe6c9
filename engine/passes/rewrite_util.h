// Helpers shared by the algebraic rule sets (canonicalize, simplify, stabilize, specialize).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/passes/rule_set.h"

namespace tensord::passes {

// Ops that apply one scalar function per element with NumPy broadcasting (including cast and
// fill): their output shape is the broadcast of their inputs' shapes.
bool IsElementwise(const std::string& op);
const std::vector<std::string>& ElementwiseOps();

// The value of a constant whose every element equals it and whose every dimension has length
// 1 (a 0-d constant, or one like ones((1, 1))): the only constants an identity rule may drop,
// since dropping a longer one could shrink the broadcast result.
std::optional<double> UniformUnitConstant(const ir::Variable* v);
inline bool IsUnitConstant(const ir::Variable* v, double value) {
  auto c = UniformUnitConstant(v);
  return c.has_value() && *c == value;
}

// v's producer when it is an `op` node, else null.
const ir::Apply* ProducedBy(const ir::Variable* v, const std::string& op);

// `node`'s op applied to its inputs without input `drop` (an identity element: 0 of add, 1 of
// mul), each input cast first to the node's output dtype (as the kernel does), fitted to the
// node's output type; the single remaining input itself when only one is left. Null when the
// result cannot have the node's type.
ir::Variable* ApplyWithout(RuleContext& b, const ir::Apply& node, size_t drop);

// x cast to `dtype`: what an elementwise kernel computing in `dtype` reads.
inline ir::Variable* As(ops::NodeBuilder& b, ir::Variable* x, DType dtype) {
  return b.Cast(x, dtype);
}

// Epilogue fusion (conv_epilogue, gemm_epilogue) folds a result into the node that consumes it,
// which needs that result to have no other reader of its values:
//
// Input `input` of `reader` is read for its shape only: sum_to_like's model (as gradients of
// broadcasting ops read a result), shape and shape_i. A fused node has the same shape as the
// result it replaces, so these readers may read it instead.
bool ReadsOnlyTheShape(const ir::Apply& reader, size_t input);
// How many nodes read each variable's values (not only its shape), the `replaced` ones (dead,
// removed at the end) aside; graph outputs count too.
std::unordered_map<const ir::Variable*, int> CountValueUses(
    const ir::Graph& graph, const std::unordered_set<const ir::Apply*>& replaced);
// v is computed from `target` (a path of inputs leads from v back to it).
bool DependsOn(const ir::Variable* v, const ir::Variable* target);

// After a pass replaced whole nodes (gemm, conv_epilogue, fusion): drops exactly those (and
// what only they read, constants included), keeping every other node even if unused.
absl::Status RemoveReplacedNodes(ir::Graph& graph,
                                 const std::unordered_set<const ir::Apply*>& replaced);

}  // namespace tensord::passes
