// batch_norm_train_grad's grad rule (declared in ops/grads/batch_norm.h): the node's three
// outputs rebuilt from its inputs as reductions and elementwise ops,
//   dbeta = sum(dy), dgamma = sum(dy (x - mean)) invstd,
//   dx = gamma invstd (dy - dbeta / m - (x - mean) invstd dgamma / m),
// then differentiated by the driver with the output gradients as known gradients. Only graphs
// that take second derivatives through batch normalization pay for the rebuilt forward.
#include "engine/grad/grad.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/grads/batch_norm.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {

Grads BatchNormTrainGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  ir::Variable* x = node.inputs[0];
  ir::Variable* dy = node.inputs[1];
  ir::Variable* gamma = node.inputs[2];
  ir::Variable* mean = node.inputs[3];
  ir::Variable* invstd = node.inputs[4];
  absl::StatusOr<std::vector<int64_t>> axes = ReducedAxes(node);
  if (!axes.ok()) return {b.Fail(axes.status()), nullptr, nullptr, nullptr, nullptr};
  const int ndim = x->type.ndim();
  auto sum_keep = [&](ir::Variable* v) { return b.ExpandDims(b.Sum(v, *axes), *axes, ndim); };
  ir::Variable* m = ReducedCount(b, x, *axes);
  ir::Variable* xm = b.Sub(x, mean);
  ir::Variable* dbeta = sum_keep(dy);
  ir::Variable* dgamma = b.Mul(sum_keep(b.Mul(dy, xm)), invstd);
  ir::Variable* scale = b.Mul(gamma, invstd);
  ir::Variable* dx =
      b.Mul(scale, b.Sub(b.Sub(dy, b.Div(dbeta, m)), b.Div(b.Mul(b.Mul(xm, invstd), dgamma), m)));
  if (!b.status().ok()) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  grad::GradRequest request;
  request.wrt = {x, dy, gamma, mean, invstd};
  // Local partial derivatives only: the outer pass carries each input's gradient on to its own
  // inputs (mean and invstd usually come from x, and dy often does), so the inner pass must not
  // follow those paths too.
  request.consider_constant = request.wrt;
  ir::Variable* outputs[] = {dx, dgamma, dbeta};
  for (int k = 0; k < 3; ++k)
    if (gz[k] != nullptr) request.known_grads.emplace_back(outputs[k], gz[k]);
  if (request.known_grads.empty()) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  request.disconnected_inputs = grad::OnDisconnected::kIgnore;
  request.return_disconnected = grad::ReturnDisconnected::kNone;
  absl::StatusOr<grad::GradResult> result =
      grad::Grad(b.graph(), request, [](const ir::Variable* v) { return v->DisplayName(); });
  if (!result.ok()) return {b.Fail(result.status()), nullptr, nullptr, nullptr, nullptr};
  return result->gradients;
}

}  // namespace tensord::ops
