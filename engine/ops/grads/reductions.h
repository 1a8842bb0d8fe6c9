// Grad rules of the reductions, cumop and sort (grads/reductions.cc), named by their
// declarations in defs/reductions*.cc, defs/scans.cc and defs/join_sort.cc.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

Grads SumGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads ProdGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads MeanGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads MomentGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads CumopGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads SortGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
// max, min and max_and_argmax: the gradient goes to the arg-extreme.
Grads MaxGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
