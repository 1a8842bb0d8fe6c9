// Ops that exist for differentiation: sum_to_like (the gradient of a broadcast input) and the
// identity ops that change only how gradients flow (disconnected_grad, zero_grad, grad_clip),
// as Theano's theano.gradient helpers.
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Tensor;

// ---- sum_to_like(g, model): g summed down to model's shape ----

absl::StatusOr<std::vector<ir::Type>> InferSumToLike(const ir::Apply& node) {
  const ir::Type& g = node.inputs[0]->type;
  const ir::Type& model = node.inputs[1]->type;
  if (g.ndim() < model.ndim()) {
    return InvalidArgument("the gradient (", TypeString(g), ") has fewer dims than the model (",
                           TypeString(model), ")");
  }
  return std::vector<ir::Type>{ir::Type{g.dtype, model.broadcastable}};
}

// ---- identity ops that only steer gradients ----

absl::StatusOr<std::vector<ir::Type>> InferIdentity(const ir::Apply& node) {
  return std::vector<ir::Type>{node.inputs[0]->type};
}

absl::StatusOr<std::vector<ir::Type>> InferGradClip(const ir::Apply& node) {
  for (int i : {1, 2}) {
    if (node.inputs[i]->type.ndim() != 0) {
      return InvalidArgument("the clip bounds must be scalars, got ",
                             TypeString(node.inputs[i]->type), " for input ", i);
    }
  }
  return InferIdentity(node);
}

// sum_to_like's gradient broadcasts back: fill(g, gz) has g's shape.
Grads SumToLikeGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Fill(node.inputs[0], gz[0]), nullptr};
}

// The driver treats disconnected_grad specially (it cuts connectivity); as a rule it simply
// passes nothing back.
Grads DisconnectedGrad(NodeBuilder&, const ir::Apply&, OutGrads) { return {nullptr}; }

Grads ZeroGrad(NodeBuilder& b, const ir::Apply& node, OutGrads) {
  return {b.ZerosLike(node.inputs[0])};
}

Grads PassGradient(NodeBuilder&, const ir::Apply&, OutGrads gz) { return {gz[0]}; }

Grads GradClipGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Apply("clip", {gz[0], node.inputs[1], node.inputs[2]}), nullptr, nullptr};
}

}  // namespace

void RegisterGradOps(Registry& r) {
  OpDef sum_to_like = MakeOpDef(
      "sum_to_like", 2, 2,
      "sum_to_like(g, model): g summed over the dims NumPy broadcasting added to reach g's "
      "shape from model's (the gradient of a broadcast input); a view of g when the shapes "
      "agree",
      InferSumToLike, SumToLikeGrad);
  sum_to_like.infer_shape = ShapeOfInput(1);
  r.Add(std::move(sum_to_like));
  // The gradient-steering identities: x's shape.
  auto identity = [&](OpDef d) {
    d.infer_shape = ShapeOfInput(0);
    r.Add(std::move(d));
  };
  identity(MakeOpDef("disconnected_grad", 1, 1,
                     "disconnected_grad(x): x, but gradients do not flow through it and x counts "
                     "as disconnected (theano.gradient.disconnected_grad)",
                     InferIdentity, DisconnectedGrad));
  identity(MakeOpDef("zero_grad", 1, 1,
                     "zero_grad(x): x, with a zero gradient (theano.gradient.zero_grad)",
                     InferIdentity, ZeroGrad));
  // theano.printing.Print: the value reaches the client as an extra output of the function,
  // which prints it there (a server has no console of the caller's).
  OpDef print = MakeOpDef("print", 1, 1,
                          "print(x; message): x itself; clients return the value alongside the "
                          "function's outputs and print it (theano.printing.Print)",
                          InferIdentity, PassGradient);
  print.attrs = {"message"};
  print.theano_render = [](const ir::Apply& node, const std::string&) {
    return absl::StrCat("Print{", ir::GetAttr<std::string>(node, "message").value_or(""), "}");
  };
  identity(std::move(print));
  identity(MakeOpDef("grad_clip", 3, 3,
                     "grad_clip(x, lo, hi): x, with its gradient clipped to [lo, hi] "
                     "(theano.gradient.grad_clip)",
                     InferGradClip, GradClipGrad));
}

}  // namespace tensord::ops
