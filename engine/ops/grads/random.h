// The grad rule of the random ops (grads/random.cc), named by their declarations in
// defs/random.cc and defs/random_discrete.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// Nothing flows to a draw's state, size or distribution parameters.
Grads NoGradientThroughSampling(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
