// Specialization: cheaper ops for special cases (Theano's specialize): pow by a small integer
// constant becomes multiplications (x ** 2 -> sqr(x), x ** 3 -> sqr(x) * x, x ** 4 ->
// sqr(sqr(x)), x ** 1 -> x, x ** 0 -> ones, and for floats x ** -1 -> 1 / x, x ** -2 ->
// 1 / sqr(x)); x * x -> sqr(x). x ** 0.5 is left alone: sqrt(-inf) is NaN where
// numpy.power(-inf, 0.5) is inf.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeSpecializePass();

}  // namespace tensord::passes
