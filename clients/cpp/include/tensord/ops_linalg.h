// Contractions beyond Dot (ops.h), under Theano's names. Output dtype: the upcast of a and b.
#ifndef TENSORD_CLIENT_OPS_LINALG_H_
#define TENSORD_CLIENT_OPS_LINALG_H_

#include <cstdint>
#include <vector>

#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {

// tensordot: sums a's `axes_a` against b's `axes_b` (paired in order; negative count from the
// end); the result has a's free dims, then b's (numpy.tensordot(a, b, (axes_a, axes_b))).
Var TensorDot(Var a, Var b, const std::vector<int64_t>& axes_a, const std::vector<int64_t>& axes_b);
// numpy.tensordot(a, b, n): a's last n axes with b's first n.
Var TensorDot(Var a, Var b, int64_t n = 2);
// batched_dot: axis 0 of both is the batch; per item, a dot of a's last axis with b's axis
// max(1, ndim-2). A vector operand scales the other per batch item (an elementwise mul).
Var BatchedDot(Var a, Var b);
// batched_tensordot: tensordot per batch item; axes count on the full operands (never 0).
Var BatchedTensorDot(Var a, Var b, const std::vector<int64_t>& axes_a,
                     const std::vector<int64_t>& axes_b);
// Theano's batched_tensordot(x, y, n): x's last n axes with y's axes 1..n.
Var BatchedTensorDot(Var a, Var b, int64_t n);
// The outer product of two vectors (others are flattened first), built from Dot.
Var Outer(Var a, Var b);

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_LINALG_H_
