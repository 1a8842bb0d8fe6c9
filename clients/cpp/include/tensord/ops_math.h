// Elementwise math, comparisons and logic under Theano's names (T.int_div, T.sqrt, T.gt,
// T.switch ...), plus ifelse. All broadcast like NumPy (see ops.h). The helpers with one Var per
// input (IntDiv, Mod, Abs, Sgn, Sqr, Sqrt, Maximum, Minimum, Clip, RoundHalfToEven,
// RoundHalfAwayFromZero, Floor ... Softplus, Psi, TriGamma, Arctan2, Gt, Lt, Ge, Le, Eq, Neq,
// IsNan, IsInf, And, Or, Xor, Invert, Switch) are generated from the server's op schema into
// tensord/elementwise_ops.h (see ops.h), each commented with its signature and dtype rule:
//   "upcast"    NumPy's result_type of the inputs;
//   "to float"  the upcast, then integers/bool become float32 (up to 16 bits) or float64;
//   "bool out"  the output is bool whatever the inputs (comparisons, predicates).
// Some refuse bool (as NumPy does), the logic ops refuse floats. What is hand-written here:
// Round with a mode, IsClose/AllClose (attributes), IfElse, operators and number operands.
//
// Comparisons are functions (Gt(a, b) is Theano's a > b): C++ code expects `a < b` and `a == b`
// on handles to give a bool, so the operators are left undefined. The bitwise operators follow
// Theano: `a % b` is Mod, `a & b` And, `a | b` Or, `a ^ b` Xor, `~a` Invert (logical on bool).
#ifndef TENSORD_CLIENT_OPS_MATH_H_
#define TENSORD_CLIENT_OPS_MATH_H_

#include <string>
#include <vector>

#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {

// Theano's round: mode "half_away_from_zero" (default) or "half_to_even"; other modes fail.
Var Round(Var x, const std::string& mode = "half_away_from_zero");

// isclose: |a - b| <= atol + rtol * |b| (numpy.isclose); attributes rtol, atol, equal_nan.
Var IsClose(Var a, Var b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
// A 0-d bool: every element IsClose (numpy.allclose), built as eq(sum(invert(isclose)), 0).
Var AllClose(Var a, Var b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);

// ifelse: the `then_values` when the 0-d `cond` is nonzero, else the `else_values`; each pair
// must have identical types. Returns one Var per pair (empty on error).
std::vector<Var> IfElse(Var cond, const std::vector<Var>& then_values,
                        const std::vector<Var>& else_values);
Var IfElse(Var cond, Var then_value, Var else_value);

inline Var operator%(Var a, Var b) { return Mod(a, b); }
inline Var operator&(Var a, Var b) { return And(a, b); }
inline Var operator|(Var a, Var b) { return Or(a, b); }
inline Var operator^(Var a, Var b) { return Xor(a, b); }
inline Var operator~(Var x) { return Invert(x); }

#define TENSORD_NUMBER_OPERATOR(op)   \
  template <Arithmetic T>             \
  Var operator op(Var a, T b) {       \
    return a op internal::Lift(a, b); \
  }                                   \
  template <Arithmetic T>             \
  Var operator op(T a, Var b) {       \
    return internal::Lift(b, a) op b; \
  }
TENSORD_NUMBER_OPERATOR(%)
TENSORD_NUMBER_OPERATOR(&)
TENSORD_NUMBER_OPERATOR(|)
TENSORD_NUMBER_OPERATOR(^)
#undef TENSORD_NUMBER_OPERATOR

// Numbers as second operand, typed as Python numbers are in Theano.
#define TENSORD_NUMBER_OVERLOADS(Fn)    \
  template <Arithmetic T>               \
  Var Fn(Var a, T b) {                  \
    return Fn(a, internal::Lift(a, b)); \
  }                                     \
  template <Arithmetic T>               \
  Var Fn(T a, Var b) {                  \
    return Fn(internal::Lift(b, a), b); \
  }
TENSORD_NUMBER_OVERLOADS(IntDiv)
TENSORD_NUMBER_OVERLOADS(Mod)
TENSORD_NUMBER_OVERLOADS(Arctan2)
TENSORD_NUMBER_OVERLOADS(And)
TENSORD_NUMBER_OVERLOADS(Or)
TENSORD_NUMBER_OVERLOADS(Xor)
TENSORD_NUMBER_OVERLOADS(Maximum)
TENSORD_NUMBER_OVERLOADS(Minimum)
TENSORD_NUMBER_OVERLOADS(Gt)
TENSORD_NUMBER_OVERLOADS(Lt)
TENSORD_NUMBER_OVERLOADS(Ge)
TENSORD_NUMBER_OVERLOADS(Le)
TENSORD_NUMBER_OVERLOADS(Eq)
TENSORD_NUMBER_OVERLOADS(Neq)
#undef TENSORD_NUMBER_OVERLOADS

template <Arithmetic L, Arithmetic H>
Var Clip(Var x, L lo, H hi) {
  return Clip(x, internal::Lift(x, lo), internal::Lift(x, hi));
}

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_MATH_H_
