// One scalar op of a composite program applied over a chunk of elements (the inner loops of the
// composite kernel, composite_kernel.h). Each gives exactly what the unfused op's kernel gives
// (engine/ops/defs/elementwise*.cc, comparisons.cc): fusing never changes a result.
#pragma once

#include <cstdint>

#include "engine/ops/defs/composite.h"

namespace tensord::cpu::composite_eval {

using ops::composite::ScalarOp;

// Elements per chunk: a few chunk-long scratch arrays stay in L1/L2 while the loops over them
// are long enough to vectorize and to amortize the per-instruction dispatch.
constexpr int64_t kChunk = 1024;

// r[i] = op(a[i], b[i], c[i]) for i < n <= kChunk (unused arguments may be null). r overlaps no
// argument.
void Eval(ScalarOp op, const float* a, const float* b, const float* c, float* r, int64_t n);
void Eval(ScalarOp op, const double* a, const double* b, const double* c, double* r, int64_t n);

// Binary arithmetic with one operand the same for every element (a coefficient, a literal):
// r[i] = op(a[i], s), or op(s, a[i]) when `scalar_first`; saves a load per element. False (and
// nothing written) for ops without this form.
bool EvalWithScalar(ScalarOp op, const float* a, float s, bool scalar_first, float* r, int64_t n);
bool EvalWithScalar(ScalarOp op, const double* a, double s, bool scalar_first, double* r,
                    int64_t n);

}  // namespace tensord::cpu::composite_eval
