// Grad rules of the random ops (defs/random.cc, defs/random_discrete.cc): no gradient flows
// through a draw to its state, size or distribution parameters (Theano's mrg_uniform says
// "No gradient defined through random sampling op"). A rule instead of differentiable = false
// because samples are float: a cost that uses a dropout mask sized by h.shape must still
// differentiate wrt the weights behind h. Where a parameter should get a gradient (normal's avg
// and std), the clients build it outside the op: avg + std * random_normal(...).
#include "engine/ops/grads/random.h"

namespace tensord::ops {

Grads NoGradientThroughSampling(NodeBuilder&, const ir::Apply& node, OutGrads) {
  return Grads(node.inputs.size(), nullptr);
}

}  // namespace tensord::ops
