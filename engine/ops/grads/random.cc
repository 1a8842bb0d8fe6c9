// Grad rules of the random ops (defs/random.cc, defs/random_discrete.cc): no gradient flows
// through a draw to its state, size or distribution parameters (Theano's mrg_uniform says
// "No gradient defined through random sampling op"). A rule instead of differentiable = false
// because samples are float: a cost that uses a dropout mask sized by h.shape must still
// differentiate wrt the weights behind h. Where a parameter should get a gradient (normal's avg
// and std), the clients build it outside the op: avg + std * random_normal(...).
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

void AttachRandomGrads(Registry& r) {
  const GradFn no_gradient = [](NodeBuilder&, const ir::Apply& node,
                                std::span<ir::Variable* const>) {
    return std::vector<ir::Variable*>(node.inputs.size(), nullptr);
  };
  for (const char* op : {"mrg_uniform", "random_normal", "random_binomial", "random_multinomial",
                         "random_choice", "random_permutation"}) {
    r.SetGrad(op, no_gradient);
  }
}

}  // namespace tensord::ops
