// Grad rules of the pooling ops (grads/pool.cc), named by their declarations in defs/pool.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

Grads PoolGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads PoolGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads PoolGradGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
