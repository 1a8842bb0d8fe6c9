// Elementwise arithmetic beyond the basics: int_div, mod, abs, sgn, sqr, sqrt, minimum, maximum,
// clip, the two roundings, floor, ceil, trunc. Results follow NumPy's ufuncs bit for bit where
// NumPy defines them (floor division and remainder replicate npy_divmod).
#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/arithmetic.h"

namespace tensord::ops {

void RegisterElementwiseMath(Registry& r) {
  const ElementwiseTyping upcast{ElemDTypeRule::kUpcast};
  const ElementwiseTyping numeric{ElemDTypeRule::kUpcast, DTypeClass::kNotBool};
  const ElementwiseTyping to_float{ElemDTypeRule::kUpgradeToFloat};
  r.Add(BinaryOp<scalar::IntDiv>(
      "int_div", "int_div(a, b) -> a // b (numpy.floor_divide; integer x // 0 is 0)", numeric,
      {"int_div", "IntDiv"}, -1));
  r.Add(BinaryOp<scalar::Mod>("mod",
                              "mod(a, b) -> a % b, sign of b (numpy.remainder; integer x % 0 is 0)",
                              numeric, {"mod", "Mod"}, -1));
  r.Add(UnaryOp<scalar::Abs>("abs", "abs(a) (numpy.absolute)", upcast, {"abs_", "Abs"}, 15));
  r.Add(UnaryOp<scalar::Sgn>("sgn", "sgn(a) -> -1, 0 or 1; NaN stays NaN (numpy.sign)", numeric,
                             {"sgn", "Sgn"}, 16));
  r.Add(UnaryOp<scalar::Sqr>("sqr", "sqr(a) -> a * a, same dtype (numpy.square)", upcast,
                             {"sqr", "Sqr"}, 14));
  r.Add(UnaryOp<scalar::Sqrt>("sqrt", "sqrt(a), ints become floats (numpy.sqrt)", to_float,
                              {"sqrt", "Sqrt"}, 13));
  r.Add(BinaryOp<scalar::Maximum>("maximum", "maximum(a, b), NaN propagates (numpy.maximum)",
                                  upcast, {"maximum", "Maximum"}, 17, kTagCommutative));
  r.Add(BinaryOp<scalar::Minimum>("minimum", "minimum(a, b), NaN propagates (numpy.minimum)",
                                  upcast, {"minimum", "Minimum"}, 18, kTagCommutative));
  r.Add(Elementwise<scalar::Clip, 3>(
      {.name = "clip",
       .min_inputs = 3,
       .max_inputs = 3,
       .doc = "clip(x, lo, hi) -> minimum(maximum(x, lo), hi) (numpy.clip)",
       .typing = upcast,
       .theano = {"clip", "Clip"},
       .opcode = 19,
       .format = "clip($0, $1, $2)"}));
  r.Add(UnaryOp<scalar::RoundHalfToEven>(
      "round_half_to_even", "round_half_to_even(a): ties to even; ints unchanged (numpy.round)",
      numeric, {"round_half_to_even", "RoundHalfToEven"}, 36));
  r.Add(UnaryOp<scalar::RoundHalfAway>(
      "round_half_away_from_zero",
      "round_half_away_from_zero(a): ties away from 0; ints unchanged (C round)", numeric,
      {"round_half_away_from_zero", "RoundHalfAwayFromZero"}, 37));
  // Theano's upgrade_to_float: floor/ceil/trunc of ints give floats (NumPy 2 keeps ints).
  r.Add(UnaryOp<scalar::Floor>("floor", "floor(a), ints become floats (numpy.floor)", to_float,
                               {"floor", "Floor"}, 33));
  r.Add(UnaryOp<scalar::Ceil>("ceil", "ceil(a), ints become floats (numpy.ceil)", to_float,
                              {"ceil", "Ceil"}, 34));
  r.Add(UnaryOp<scalar::Trunc>("trunc", "trunc(a), ints become floats (numpy.trunc)", to_float,
                               {"trunc", "Trunc"}, 35));
}

}  // namespace tensord::ops
