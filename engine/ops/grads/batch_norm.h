// Grad rules of batch_norm_train (grads/batch_norm.cc) and batch_norm_train_grad (defined with
// the grad driver, engine/grad/batch_norm_rule.cc, which differentiates the gradient's formula;
// ops/ only declares it, so the layering stays downward), named by their declarations in
// defs/batch_norm.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

Grads BatchNormTrainGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
// Second derivatives: the three gradients written as reductions and elementwise ops, whose
// gradients the driver builds.
Grads BatchNormTrainGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
