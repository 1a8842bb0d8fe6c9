// Grad rules of batch_norm_train (grads/batch_norm.cc) and batch_norm_train_grad (defined with
// the grad driver, engine/grad/batch_norm_rule.cc, which differentiates the gradient's formula;
// ops/ only declares it, so the layering stays downward), named by their declarations in
// defs/batch_norm.cc.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/ops/op_def.h"

namespace tensord::ops {

// The elements each statistic reduces over (the product of x's dims at `axes`), in x's dtype.
ir::Variable* ReducedCount(NodeBuilder& b, ir::Variable* x, const std::vector<int64_t>& axes);

Grads BatchNormTrainGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
// Second derivatives: the three gradients written as reductions and elementwise ops, whose
// gradients the driver builds.
Grads BatchNormTrainGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
