// Stabilization: rewrites formulas that overflow, underflow or lose precision into their stable
// forms (Theano's stabilize rules), for float dtypes only:
//   log(1 + x) -> log1p(x),  log(1 - x) -> log1p(-x),  exp(x) - 1 -> expm1(x),
//   log(sigmoid(x)) -> -softplus(-x),  log(1 - sigmoid(x)) -> -softplus(x),
//   log(exp(a) / b) -> a - log(b)            (log of tensord.nnet.softmax: log_softmax),
//   log(exp(a) / b)[idx] -> (a - log(b))[idx] (categorical crossentropy with integer labels),
//   log(sum(exp(x))) -> m + log(sum(exp(x - m))), m = max(x) (0 where infinite): log-sum-exp.
// Their results differ from the naive forms only where those lost precision or overflowed.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeStabilizePass();

}  // namespace tensord::passes
