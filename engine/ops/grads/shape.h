// Grad rules of the shape, creation and control ops (grads/shape.cc), named by their
// declarations in defs/shape_ops.cc, defs/creation.cc, defs/join_sort.cc, defs/tile_repeat.cc
// and defs/ifelse.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// reshape and flatten.
Grads ReshapeGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads DimshuffleGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads CastGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads FillGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads AllocGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads JoinGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads MakeVectorGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads TileGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads RepeatGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads ArangeGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads IfElseGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
