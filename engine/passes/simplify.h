// Algebraic simplification: identities that remove work without changing results (Theano's
// local_useless_* and friends): x * 1, x + 0, x - 0, x / 1, x - x, exp(log x), log(exp x),
// -(-x), merged dimshuffles and reshapes, casts to the same dtype, reductions over no axis,
// fills whose shape the consumer already has, sum_to_like of an unbroadcast value and the
// gradient helpers (zero_grad, disconnected_grad, grad_clip), which are the identity forward.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeSimplifyPass();

}  // namespace tensord::passes
