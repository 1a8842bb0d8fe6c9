// Canonicalization: puts arithmetic in one normal form so later rules and merge see equal
// expressions as equal nodes.
//
// The normal form:
//  - add and mul are n-ary: a nested add/mul of the same dtype that has no other consumer is
//    flattened into its consumer (add(add(a, b), c) -> add(a, b, c));
//  - their inputs are sorted: variables in the order they first appear in the graph (stable for
//    equal canonical keys, unlike wire ids), constants last, so a + b and b + a merge and rules
//    find constants at the end;
//  - sub and true_div stay (there is no reciprocal op, and Theano prints a - b, not
//    a + -b); negation is pushed into them where it cancels: x + -y -> x - y, x - -y -> x + y,
//    -(x - y) -> y - x, x * -1 -> -x, -x / -y -> x / y, -x * -y -> x * y.
// Every rewrite is exact except the reassociation of flattening and sorting (float rounding).
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeCanonicalizePass();

}  // namespace tensord::passes
