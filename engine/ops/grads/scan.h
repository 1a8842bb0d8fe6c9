// Grad rules of scan and scan_grad, named by their declarations in defs/scan_op.cc. They are
// defined with the grad driver (engine/grad/scan_rule.cc), which builds the step function's
// gradient body; ops/ only declares them, so the layering stays downward at compile time.
#pragma once

#include "engine/ops/op_def.h"

namespace tensord::ops {

// Backpropagation through time as one scan_grad node.
Grads ScanGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);
// Refuses: second derivatives through scan are not supported.
Grads ScanGradGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz);

}  // namespace tensord::ops
