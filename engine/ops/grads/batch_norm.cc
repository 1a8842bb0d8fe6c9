// batch_norm_train(x, gamma, beta) = (out, mean, invstd). The output's gradient goes through
// batch_norm_train_grad; gradients reaching the returned statistics add their own terms to dx:
// d mean / dx = 1/m, d invstd / dx = -invstd^3 (x - mean) / m (m elements per statistic).
#include "engine/ops/grads/batch_norm.h"

#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {

ir::Variable* ReducedCount(NodeBuilder& b, ir::Variable* x, const std::vector<int64_t>& axes) {
  std::vector<ir::Variable*> dims;
  for (int64_t a : axes) dims.push_back(b.ShapeI(x, a));
  return b.Cast(DimsProduct(b, dims), x->type.dtype);
}

Grads BatchNormTrainGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  ir::Variable* x = node.inputs[0];
  ir::Variable* gamma = node.inputs[1];
  ir::Variable* mean = node.outputs[1];
  ir::Variable* invstd = node.outputs[2];
  ir::Variable *dx = nullptr, *dgamma = nullptr, *dbeta = nullptr;
  if (gz[0] != nullptr) {
    ir::Attrs attrs = NodeBuilder::DeclaredAttrs(node);
    attrs.erase("epsilon");
    std::vector<ir::Variable*> g =
        b.ApplyMulti("batch_norm_train_grad", {x, gz[0], gamma, mean, invstd}, attrs);
    // The statistics' shape; gamma and beta may have broadcast to it.
    if (g.size() == 3)
      dx = g[0], dgamma = b.SumToLike(g[1], gamma), dbeta = b.SumToLike(g[2], node.inputs[2]);
  }
  if (gz[1] == nullptr && gz[2] == nullptr) return {dx, dgamma, dbeta};
  absl::StatusOr<std::vector<int64_t>> axes = ReducedAxes(node);
  if (!axes.ok()) return {b.Fail(axes.status()), nullptr, nullptr};
  ir::Variable* inv_m = b.Div(b.ConstantLike(1, x), ReducedCount(b, x, *axes));
  auto add = [&](ir::Variable* term) { dx = dx == nullptr ? term : b.Add(dx, term); };
  if (gz[1] != nullptr) add(b.Mul(gz[1], inv_m));
  if (gz[2] != nullptr) {
    ir::Variable* cube = b.Mul(invstd, b.Mul(invstd, invstd));
    add(b.Neg(b.Mul(b.Mul(gz[2], cube), b.Mul(b.Sub(x, mean), inv_m))));
  }
  return {dx, dgamma, dbeta};
}

}  // namespace tensord::ops
