// Internal to vector_math*.cc: the loops of engine/ops/scalar/vector_math.h, written once over a
// vector traits type V (V::T the element, V::Vec a register of V::N of them) and instantiated by
// each instruction set's file. Everything here has internal linkage, so the AVX2 file's copies
// can never be picked by the linker for the baseline file's callers.
#pragma once

#include <cstdint>

#include "engine/ops/scalar/tanh_f32_table.h"
#include "engine/ops/scalar/vector_math.h"

namespace tensord::vmath {
namespace {

// r = f(a) over whole vectors; a tail is padded to one more full vector, so every element goes
// through the same code.
template <class V, auto F>
void Map(const typename V::T* a, typename V::T* r, int64_t n) {
  using T = typename V::T;
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) V::Store(r + i, F(V::Load(a + i)));
  if (i == n) return;
  T in[V::N] = {}, out[V::N];
  for (int64_t k = 0; i + k < n; ++k) in[k] = a[i + k];
  V::Store(out, F(V::Load(in)));
  for (int64_t k = 0; i + k < n; ++k) r[i + k] = out[k];
}

template <class V, auto F>
void Map2(const typename V::T* a, const typename V::T* b, typename V::T* r, int64_t n) {
  using T = typename V::T;
  int64_t i = 0;
  for (; i + V::N <= n; i += V::N) V::Store(r + i, F(V::Load(a + i), V::Load(b + i)));
  if (i == n) return;
  T in_a[V::N] = {}, in_b[V::N] = {}, out[V::N];
  for (int64_t k = 0; i + k < n; ++k) in_a[k] = a[i + k], in_b[k] = b[i + k];
  V::Store(out, F(V::Load(in_a), V::Load(in_b)));
  for (int64_t k = 0; i + k < n; ++k) r[i + k] = out[k];
}

// SLEEF's double sinh and cosh overflow to inf from |x| > 709, short of where the results do
// (710.48): beyond that the scalar libm function answers (a rare, slow edge).
template <class V, auto F, double (*Scalar)(double)>
void MapPatchingBeyond709(const double* a, double* r, int64_t n) {
  for (int64_t i = 0; i < n; i += V::N) {
    double in[V::N] = {}, out[V::N];
    const int64_t m = n - i < V::N ? n - i : V::N;
    for (int64_t k = 0; k < m; ++k) in[k] = a[i + k];
    V::Store(out, F(V::Load(in)));
    for (int64_t k = 0; k < m; ++k) r[i + k] = __builtin_fabs(in[k]) > 709 ? Scalar(in[k]) : out[k];
  }
}
inline double LibmSinh(double x) { return __builtin_sinh(x); }
inline double LibmCosh(double x) { return __builtin_cosh(x); }

// 1 / (1 + exp(-x)) for x >= 0, exp(x) / (1 + exp(x)) below: exp never overflows.
template <class V, auto Exp>
typename V::Vec Sigmoid(typename V::Vec x) {
  const auto e = Exp(V::Neg(V::Abs(x)));
  const auto one_plus = V::Add(V::Set1(1), e);
  return V::SelectNonNegative(x, V::Div(V::Set1(1), one_plus), V::Div(e, one_plus));
}

// log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)): exp never overflows, small results keep
// their precision.
template <class V, auto Exp, auto Log1p>
typename V::Vec Softplus(typename V::Vec x) {
  return V::Add(V::Max(x, V::Set1(0)), Log1p(Exp(V::Neg(V::Abs(x)))));
}

// float32 sigmoid in float, on instruction sets with FMA: only exp's rounding (at most 1 ULP)
// and the last one remain. 1 + e is kept as an unrounded pair (Fast2Sum: 1 >= e), and the
// quotient is corrected by its residual, which FMA computes exactly. Within 1.5 ULP over every
// float (the plain quotient is 2.5 off) and 4x faster than computing in double.
template <class V, auto Exp>
typename V::Vec SigmoidCorrected(typename V::Vec x) {
  const auto one = V::Set1(1);
  const auto e = Exp(V::Neg(V::Abs(x)));
  const auto d = V::Add(one, e);
  const auto d_tail = V::Add(V::Sub(one, d), e);  // d + d_tail == 1 + e
  const auto numerator = V::SelectNonNegative(x, one, e);
  const auto r = V::Div(one, d);
  const auto q = V::Mul(numerator, r);
  // numerator - q * (d + d_tail)
  const auto residual = V::NegMulAdd(q, d_tail, V::NegMulAdd(q, d, numerator));
  return V::MulAdd(residual, r, q);
}

// float32 tanh on instruction sets with FMA, from the piecewise polynomials of tanh_f32_table.h
// (fit_tanh_f32.py explains them): at most 0.994 ULP off over every float (tanh_every_float
// checks), and faster than SLEEF's 1-ULP tanh (an expm1 and a division): 7x on AVX-512, 2.4x on
// AVX2. |x| picks an interval by its exponent and two leading mantissa bits; the interval's
// coefficients come from the table (V::Lookup32), and t = |x| - centre is exact. IEEE
// operations only, so every set with FMA gives the same bits. Inlined into Map's loop, so that
// on AVX-512 the table's 16 registers are loaded once per call, not per vector.
template <class V>
[[gnu::always_inline]] inline typename V::Vec TanhPiecewise(typename V::Vec x) {
  namespace table = tanh_f32;
  // min's second operand wins when either is NaN: a NaN stays NaN and picks the last interval
  const auto ax = V::Min(V::Set1(table::kClamp), V::Abs(x));
  const auto interval = V::ClampInt(
      V::SubInt(V::template ShiftRightInt<table::kIndexShift>(V::Bits(ax)), table::kIndexOffset), 0,
      table::kLastInterval);
  const auto t = V::Sub(ax, V::Lookup32(table::kCentres, interval));
  auto sum = V::Lookup32(table::kCoefficients[table::kDegree], interval);
  for (int k = table::kDegree - 1; k >= 1; --k) {
    sum = V::MulAdd(sum, t, V::Lookup32(table::kCoefficients[k], interval));
  }
  // the constant term last, its rounding error added first: the sum stays within a ULP
  const auto y = V::Add(V::MulAdd(sum, t, V::Lookup32(table::kTails, interval)),
                        V::Lookup32(table::kCoefficients[0], interval));
  return V::WithSignOf(y, x);  // y >= 0
}

// float32 functions SLEEF's float versions do not serve well (below) are computed in double on
// the register's two halves and rounded once.
template <class VF, auto F64>
typename VF::Vec InDouble(typename VF::Vec x) {
  return VF::Narrow(F64(VF::WidenLow(x)), F64(VF::WidenHigh(x)));
}

}  // namespace
}  // namespace tensord::vmath

// A table of one instruction set's loops. VF/VD: float and double traits; F/D: SLEEF's width
// tags (f16/d8, f8/d4, f4/d2); ISA: its suffix (avx512f, avx2, sse2).
//
// Every function is SLEEF's deterministic variant (finz_ with FMA, cinz_ without): the plain
// ones reduce sin's, cos's and tan's argument by the cheapest method that suits every lane of
// the vector, and the methods differ in the last bit, so an element's result depended on its
// neighbours. The deterministic ones choose per lane, and with FMA give the same bits on every
// instruction set (vector_math_test checks both), as fast here.
// Each instruction set's file defines TENSORD_VMATH_VARIANT (finz_ or cinz_) before its table.
#define TENSORD_VMATH_PASTE(VARIANT, NAME, W, U, ISA) Sleef_##VARIANT##NAME##W##_##U##ISA
#define TENSORD_VMATH_EXPAND(VARIANT, NAME, W, U, ISA) TENSORD_VMATH_PASTE(VARIANT, NAME, W, U, ISA)
#define TENSORD_VMATH_FN(NAME, W, U, ISA) \
  TENSORD_VMATH_EXPAND(TENSORD_VMATH_VARIANT, NAME, W, U, ISA)
#define TENSORD_VMATH_MAP(V, NAME, W, U, ISA) Map<V, TENSORD_VMATH_FN(NAME, W, U, ISA)>
#define TENSORD_VMATH_TRIG(V, NAME, W, ISA) TENSORD_VMATH_MAP(V, NAME, W, u10, ISA)
#define TENSORD_VMATH_UNARY(V, W, ISA)                                                   \
  TENSORD_VMATH_MAP(V, exp, W, u10, ISA), TENSORD_VMATH_MAP(V, exp2, W, u10, ISA),       \
      TENSORD_VMATH_MAP(V, expm1, W, u10, ISA), TENSORD_VMATH_MAP(V, log, W, u10, ISA),  \
      TENSORD_VMATH_MAP(V, log2, W, u10, ISA), TENSORD_VMATH_MAP(V, log10, W, u10, ISA), \
      TENSORD_VMATH_MAP(V, log1p, W, u10, ISA), TENSORD_VMATH_TRIG(V, sin, W, ISA),      \
      TENSORD_VMATH_TRIG(V, cos, W, ISA), TENSORD_VMATH_TRIG(V, tan, W, ISA),            \
      TENSORD_VMATH_MAP(V, asin, W, u10, ISA), TENSORD_VMATH_MAP(V, acos, W, u10, ISA),  \
      TENSORD_VMATH_MAP(V, atan, W, u10, ISA)
#define TENSORD_VMATH_SINH(VD, D, ISA) \
  MapPatchingBeyond709<VD, TENSORD_VMATH_FN(sinh, D, u10, ISA), LibmSinh>
#define TENSORD_VMATH_COSH(VD, D, ISA) \
  MapPatchingBeyond709<VD, TENSORD_VMATH_FN(cosh, D, u10, ISA), LibmCosh>
#define TENSORD_VMATH_TANH_ERF(V, W, ISA) \
  TENSORD_VMATH_MAP(V, tanh, W, u10, ISA), TENSORD_VMATH_MAP(V, erf, W, u10, ISA)
#define TENSORD_VMATH_ERFC(VD, D, ISA) TENSORD_VMATH_MAP(VD, erfc, D, u15, ISA)
#define TENSORD_VMATH_SIGMOID(VD, D, ISA) Sigmoid<VD, TENSORD_VMATH_FN(exp, D, u10, ISA)>
#define TENSORD_VMATH_SOFTPLUS(VD, D, ISA) \
  Softplus<VD, TENSORD_VMATH_FN(exp, D, u10, ISA), TENSORD_VMATH_FN(log1p, D, u10, ISA)>
// float32 in double (InDouble): sinh and cosh, since SLEEF's float versions overflow from
// |x| > 88.5, short of float's 89.4 (SLEEF's double ones need no patch here: beyond 709 the
// float result is inf too); erfc, since SLEEF's float version without FMA (SSE2) is 2.2 ULP off
// where its results approach the smallest normal float (x near 9.2); softplus, built from
// several rounded steps (1 ULP instead of 2.5). Sigmoid's and tanh's float32 loops are each
// file's TENSORD_VMATH_F32_SIGMOID and TENSORD_VMATH_F32_TANH: SigmoidCorrected and
// TanhPiecewise where the set has FMA, else in double and SLEEF's.
// clang-format off
#define TENSORD_VMATH_TABLE(VF, VD, F, D, ISA)                                                \
  Table {                                                                                     \
    #ISA,                                                                                     \
    {TENSORD_VMATH_UNARY(VF, F, ISA),                                                         \
     Map<VF, InDouble<VF, TENSORD_VMATH_FN(sinh, D, u10, ISA)>>,                              \
     Map<VF, InDouble<VF, TENSORD_VMATH_FN(cosh, D, u10, ISA)>>,                              \
     TENSORD_VMATH_F32_TANH(VF, F, ISA), TENSORD_VMATH_MAP(VF, erf, F, u10, ISA),             \
     Map<VF, InDouble<VF, TENSORD_VMATH_FN(erfc, D, u15, ISA)>>,                              \
     TENSORD_VMATH_F32_SIGMOID(VF, VD, F, D, ISA),                                            \
     Map<VF, InDouble<VF, TENSORD_VMATH_SOFTPLUS(VD, D, ISA)>>},                              \
    {TENSORD_VMATH_UNARY(VD, D, ISA), TENSORD_VMATH_SINH(VD, D, ISA),                         \
     TENSORD_VMATH_COSH(VD, D, ISA), TENSORD_VMATH_TANH_ERF(VD, D, ISA),                      \
     TENSORD_VMATH_ERFC(VD, D, ISA), Map<VD, TENSORD_VMATH_SIGMOID(VD, D, ISA)>,              \
     Map<VD, TENSORD_VMATH_SOFTPLUS(VD, D, ISA)>},                                            \
    {Map2<VF, TENSORD_VMATH_FN(pow, F, u10, ISA)>, Map2<VF, TENSORD_VMATH_FN(atan2, F, u10, ISA)>}, \
    {Map2<VD, TENSORD_VMATH_FN(pow, D, u10, ISA)>, Map2<VD, TENSORD_VMATH_FN(atan2, D, u10, ISA)>}, \
  }
// clang-format on
