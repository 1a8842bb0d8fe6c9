// conv(x, w) = y: dx = conv_grad_inputs(w, dy), dw = conv_grad_weights(x, dy). The gradient
// ops are linear in each operand, so their own gradients are the other two ops again (Theano's
// AbstractConv*_gradInputs/gradWeights grads).
#include "engine/ops/grads/conv.h"

#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;

// x.shape[2:] as an int64 vector: the spatial-shape input of the gradient ops.
Variable* SpatialShape(NodeBuilder& b, Variable* x) {
  std::vector<Variable*> dims;
  for (int d = 2; d < x->type.ndim(); ++d) dims.push_back(b.ShapeI(x, d));
  return b.Apply("make_vector", std::move(dims), {{"dtype", DType::kInt64}});
}

}  // namespace

Grads ConvGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr};
  Variable* x = node.inputs[0];
  Variable* w = node.inputs[1];
  const ir::Attrs attrs = NodeBuilder::DeclaredAttrs(node);
  return {b.Apply("conv_grad_inputs", {w, gz[0], SpatialShape(b, x)}, attrs),
          b.Apply("conv_grad_weights", {x, gz[0], SpatialShape(b, w)}, attrs)};
}

Grads ConvGradInputsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr};
  Variable* w = node.inputs[0];
  Variable* top = node.inputs[1];
  const ir::Attrs attrs = NodeBuilder::DeclaredAttrs(node);
  return {b.Apply("conv_grad_weights", {gz[0], top, SpatialShape(b, w)}, attrs),
          b.Apply("conv", {gz[0], w}, attrs), nullptr};
}

Grads ConvGradWeightsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr};
  Variable* x = node.inputs[0];
  Variable* top = node.inputs[1];
  const ir::Attrs attrs = NodeBuilder::DeclaredAttrs(node);
  return {b.Apply("conv_grad_inputs", {gz[0], top, SpatialShape(b, x)}, attrs),
          b.Apply("conv", {x, gz[0]}, attrs), nullptr};
}

}  // namespace tensord::ops
