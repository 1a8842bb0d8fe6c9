// Grad rule of the contractions (grads/linalg.cc), named by their declarations in
// defs/linalg.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// dot, tensordot, batched_dot and batched_tensordot: one rule serves all four.
Grads ContractionGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
