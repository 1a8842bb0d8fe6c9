// pool(x) = y: dx = pool_grad(x, dy). pool_grad is linear in its gradient operand and
// piecewise constant in x (the windows' maxima move only at ties), so its own gradient is zero
// for x and its adjoint for the gradient: pool itself for sum and the averages, pool_grad_grad
// (reading at the argmax) for max, whose adjoint is pool_grad again.
#include "engine/ops/grads/pool.h"

#include "engine/ops/node_builder.h"

namespace tensord::ops {

Grads PoolGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr};
  return {b.Apply("pool_grad", {node.inputs[0], gz[0]}, NodeBuilder::DeclaredAttrs(node))};
}

Grads PoolGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr};
  ir::Variable* x = node.inputs[0];
  const bool max = ir::GetAttr<std::string>(node, "mode").value_or("") == "max";
  return {b.ZerosLike(x),
          max ? b.Apply("pool_grad_grad", {x, gz[0]}, NodeBuilder::DeclaredAttrs(node))
              : b.Apply("pool", {gz[0]}, NodeBuilder::DeclaredAttrs(node))};
}

Grads PoolGradGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr};
  ir::Variable* x = node.inputs[0];
  return {b.ZerosLike(x), b.Apply("pool_grad", {x, gz[0]}, NodeBuilder::DeclaredAttrs(node))};
}

}  // namespace tensord::ops
