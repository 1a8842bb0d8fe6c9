// Batch normalization as Theano's AbstractBatchNormTrain / AbstractBatchNormTrainGrad: one op
// computes the batch statistics and the normalized output in three passes over the input, and
// one computes all three gradients in two, where the same expression composed of reductions and
// elementwise ops reads and writes the activations about thirty times.
//
//   batch_norm_train(x, gamma, beta; axis, epsilon) -> (out, mean, invstd)
//       mean, invstd over `axis` (kept as size-1 dims); out = (x - mean) * gamma * invstd + beta
//   batch_norm_train_grad(x, dy, gamma, mean, invstd; axis) -> (dx, dgamma, dbeta)
// gamma and beta broadcast to x's shape with size 1 on `axis` (the client shapes them so).
#include "engine/ops/defs/batch_norm.h"

#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/batch_norm.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

runtime::Shape BatchNormStatsShape(const runtime::Shape& x, const std::vector<int64_t>& axes) {
  runtime::Shape stats = x;
  for (int64_t a : axes) stats[a] = 1;
  return stats;
}

absl::Status CheckBatchNormParam(const runtime::Shape& param, const runtime::Shape& stats,
                                 const char* op, const char* what) {
  bool broadcasts = param.size() == stats.size();
  for (size_t d = 0; broadcasts && d < param.size(); ++d)
    broadcasts = param[d] == stats[d] || param[d] == 1;
  if (broadcasts) return absl::OkStatus();
  return InvalidArgument(op, ": ", what, " has shape ", runtime::ShapeString(param),
                         ", which does not broadcast to the statistics' ",
                         runtime::ShapeString(stats));
}

absl::Status CheckBatchNormGradient(const runtime::Shape& dy, const runtime::Shape& x) {
  if (dy == x) return absl::OkStatus();
  return InvalidArgument("batch_norm_train_grad: the output gradient has shape ",
                         runtime::ShapeString(dy), ", x ", runtime::ShapeString(x));
}

namespace {

// x's type with the normalized axes broadcastable: the statistics' and parameters' type.
absl::StatusOr<ir::Type> StatsType(const ir::Apply& node, DType dtype) {
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ReducedAxes(node));
  ir::Type t{dtype, node.inputs[0]->type.broadcastable};
  for (int64_t a : axes) t.broadcastable[a] = true;
  return t;
}

absl::StatusOr<DType> BatchNormDType(const ir::Apply& node) {
  if (node.inputs[0]->type.ndim() == 0) {
    return InvalidArgument(node.op, " needs an input of at least 1 dim, got a scalar");
  }
  DType dtype = node.inputs[0]->type.dtype;
  for (const ir::Variable* v : node.inputs) {
    if (v->type.ndim() != node.inputs[0]->type.ndim()) {
      return InvalidArgument(node.op, ": every operand needs x's rank (",
                             node.inputs[0]->type.ndim(),
                             "; parameters with size 1 on the "
                             "normalized axes), got ",
                             ir::TypeString(v->type));
    }
    dtype = Promote(dtype, v->type.dtype);
  }
  if (dtype != DType::kFloat32 && dtype != DType::kFloat64) {
    return InvalidArgument(node.op, " needs float32 or float64 operands, got ",
                           ir::TypeString(node.inputs[0]->type));
  }
  return dtype;
}

absl::StatusOr<std::vector<ir::Type>> InferTrain(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, BatchNormDType(node));
  TENSORD_ASSIGN_OR_RETURN(double epsilon, ir::GetAttr<double>(node, "epsilon"));
  if (!(epsilon > 0)) return InvalidArgument(node.op, ": epsilon must be > 0, got ", epsilon);
  TENSORD_ASSIGN_OR_RETURN(ir::Type stats, StatsType(node, dtype));
  return std::vector<ir::Type>{{dtype, node.inputs[0]->type.broadcastable}, stats, stats};
}

absl::StatusOr<std::vector<ir::Type>> InferTrainGrad(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, BatchNormDType(node));
  TENSORD_ASSIGN_OR_RETURN(ir::Type stats, StatsType(node, dtype));
  return std::vector<ir::Type>{{dtype, node.inputs[0]->type.broadcastable}, stats, stats};
}

std::vector<std::optional<DType>> AllAsOutput0(const ir::Apply& node) {
  return std::vector<std::optional<DType>>(node.inputs.size(), node.outputs[0]->type.dtype);
}

// x's shape, then the statistics' (x's with 1 on the axes), twice.
std::vector<SymbolicShape> BatchNormShape(NodeBuilder& b, const ir::Apply& node,
                                          std::span<const SymbolicShape> in) {
  absl::StatusOr<std::vector<int64_t>> axes = ReducedAxes(node);
  if (!axes.ok()) return {};
  SymbolicShape stats = in[0];
  for (int64_t a : *axes) stats[a] = b.Constant(1, DType::kInt64);
  return {in[0], stats, stats};
}

}  // namespace

void RegisterBatchNorm(Registry& r) {
  OpDef train = MakeOpDef(
      "batch_norm_train", 3, 3,
      "batch_norm_train(x, gamma, beta; axis, epsilon) -> (out, mean, invstd): x normalized "
      "with its statistics over `axis`, scaled and shifted (Theano's batch_normalization_train)",
      InferTrain, BatchNormTrainGrad);
  train.attrs = {"axis", "epsilon"};
  train.input_dtypes = AllAsOutput0;
  train.infer_shape = BatchNormShape;
  train.theano.name = "AbstractBatchNormTrain";
  r.Add(std::move(train));
  OpDef grad = MakeOpDef(
      "batch_norm_train_grad", 5, 5,
      "batch_norm_train_grad(x, dy, gamma, mean, invstd; axis) -> (dx, dgamma, dbeta): "
      "batch_norm_train's gradients given its output's (Theano's AbstractBatchNormTrainGrad)",
      InferTrainGrad, BatchNormTrainGradGrad);
  grad.attrs = {"axis"};
  grad.input_dtypes = AllAsOutput0;
  grad.infer_shape = BatchNormShape;
  grad.theano.name = "AbstractBatchNormTrainGrad";
  r.Add(std::move(grad));
}

}  // namespace tensord::ops
