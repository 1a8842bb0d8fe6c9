// Grad rules of the reductions and scans.
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/grad_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using Grads = std::vector<Variable*>;
using OutGrads = std::span<Variable* const>;

// gz (the reduced shape) with the reduced axes put back as broadcastable dims.
Variable* ExpandReduced(GradBuilder& b, const ir::Apply& node, Variable* gz) {
  auto axes = ReducedAxes(node);
  if (!axes.ok()) return b.Apply("invalid axes", {});  // unreachable: the node type-checked
  return b.ExpandDims(gz, *axes, node.inputs[0]->type.ndim());
}

// Theano's Sum.grad: gz broadcast back over the summed axes (fill(x, gz.dimshuffle(...))).
Grads SumGrad(GradBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Fill(node.inputs[0], ExpandReduced(b, node, gz[0]))};
}

}  // namespace

void AttachReductionGrads(Registry& r) { r.SetGrad("sum", SumGrad); }

}  // namespace tensord::ops
