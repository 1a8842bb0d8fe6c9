// Grad rules of the convolution ops (grads/conv.cc), named by their declarations in
// defs/conv.cc. Each gradient node carries its forward node's attributes, so the three ops stay
// one another's adjoints at every order.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

Grads ConvGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads ConvGradInputsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
Grads ConvGradWeightsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
