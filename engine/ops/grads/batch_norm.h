// Grad rule of batch_norm_train (grads/batch_norm.cc), named by its declaration in
// defs/batch_norm.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

Grads BatchNormTrainGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
