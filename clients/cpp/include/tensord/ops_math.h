// Elementwise math, comparisons and logic under Theano's names (T.int_div, T.sqrt, T.gt,
// T.switch ...), plus ifelse. All broadcast like NumPy (see ops.h). Dtype rules, as the server's:
//   "upcast"    NumPy's result_type of the inputs;
//   "to float"  the upcast, then integers/bool become float32 (up to 16 bits) or float64;
//   "bool"      the output is bool whatever the inputs (comparisons, predicates).
// Ops marked "no bool" refuse bool inputs (as NumPy does), the logic ops refuse floats.
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

Var IntDiv(Var a, Var b);          // int_div: a // b, floor division (integer x // 0 is 0); no bool
Var Mod(Var a, Var b);             // mod: a % b with the sign of b (numpy.remainder); no bool
Var Abs(Var x);                    // abs: upcast
Var Sgn(Var x);                    // sgn: -1, 0 or 1; no bool
Var Sqr(Var x);                    // sqr: x * x in x's dtype
Var Sqrt(Var x);                   // sqrt: to float
Var Maximum(Var a, Var b);         // maximum: upcast, NaN propagates
Var Minimum(Var a, Var b);         // minimum
Var Clip(Var x, Var lo, Var hi);   // clip: upcast of all three (numpy.clip)
Var RoundHalfToEven(Var x);        // round_half_to_even (numpy.round); no bool
Var RoundHalfAwayFromZero(Var x);  // round_half_away_from_zero (C round); no bool
// Theano's round: mode "half_away_from_zero" (default) or "half_to_even"; other modes fail.
Var Round(Var x, const std::string& mode = "half_away_from_zero");

// Unary, to float (integers give float32/float64).
Var Floor(Var x);           // floor
Var Ceil(Var x);            // ceil
Var Trunc(Var x);           // trunc
Var Expm1(Var x);           // expm1
Var Log1p(Var x);           // log1p
Var Log2(Var x);            // log2
Var Log10(Var x);           // log10
Var Sin(Var x);             // sin
Var Cos(Var x);             // cos
Var Tan(Var x);             // tan
Var Arcsin(Var x);          // arcsin
Var Arccos(Var x);          // arccos
Var Arctan(Var x);          // arctan
Var Sinh(Var x);            // sinh
Var Cosh(Var x);            // cosh
Var Tanh(Var x);            // tanh
Var Erf(Var x);             // erf
Var Erfc(Var x);            // erfc
Var Gamma(Var x);           // gamma
Var Gammaln(Var x);         // gammaln: log|gamma(x)|
Var Sigmoid(Var x);         // sigmoid: 1 / (1 + exp(-x)) without overflow
Var Softplus(Var x);        // softplus: log(1 + exp(x)) without overflow
Var Arctan2(Var a, Var b);  // arctan2: to float

// Comparisons and predicates: bool outputs; the comparison is made in the inputs' upcast.
Var Gt(Var a, Var b);   // gt: a > b
Var Lt(Var a, Var b);   // lt: a < b
Var Ge(Var a, Var b);   // ge: a >= b
Var Le(Var a, Var b);   // le: a <= b
Var Eq(Var a, Var b);   // eq: a == b
Var Neq(Var a, Var b);  // neq: a != b
Var IsNan(Var x);       // isnan (false for integers)
Var IsInf(Var x);       // isinf
// isclose: |a - b| <= atol + rtol * |b| (numpy.isclose); attributes rtol, atol, equal_nan.
Var IsClose(Var a, Var b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);
// A 0-d bool: every element IsClose (numpy.allclose), built as eq(sum(invert(isclose)), 0).
Var AllClose(Var a, Var b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false);

// Logic / bitwise on integers and bool (logical on bool); floats are refused.
Var And(Var a, Var b);  // and
Var Or(Var a, Var b);   // or
Var Xor(Var a, Var b);  // xor
Var Invert(Var x);      // invert: ~x, logical not on bool

// switch: a where cond != 0, else b (numpy.where); dtype is the upcast of a and b.
Var Switch(Var cond, Var a, Var b);
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
