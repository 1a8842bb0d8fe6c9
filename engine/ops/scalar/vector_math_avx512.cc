// The AVX-512 loops of vector_math.h (16 floats or 8 doubles per step): twice the AVX2 loops'
// throughput where the CPU executes 512-bit vectors at full width (docs/performance.md, "Vector
// math"). Built with -mavx512f (engine/CMakeLists.txt) and called only on CPUs, and under
// kernels, that support it (vector_math.cc checks): so this file includes nothing but
// intrinsics, SLEEF and its own internal-linkage templates. Only AVX512F instructions are used
// (sign bits are flipped and cleared with integer logic: the float forms need AVX512DQ).
#include <immintrin.h>
#include <sleef.h>

#include "engine/ops/scalar/vector_math_kernels.h"

#define TENSORD_VMATH_VARIANT finz_  // SLEEF's deterministic functions (with FMA)
#define TENSORD_VMATH_F32_SIGMOID(VF, VD, F, D, ISA) \
  Map<VF, SigmoidCorrected<VF, TENSORD_VMATH_FN(exp, F, u10, ISA)>>
#define TENSORD_VMATH_F32_TANH(VF, F, ISA) Map<VF, TanhPiecewise<VF>>

namespace tensord::vmath {
namespace {

struct F16 {
  using T = float;
  using Vec = __m512;
  static constexpr int N = 16;
  static Vec Load(const T* p) { return _mm512_loadu_ps(p); }
  static void Store(T* p, Vec v) { _mm512_storeu_ps(p, v); }
  static Vec Set1(T a) { return _mm512_set1_ps(a); }
  static Vec Add(Vec a, Vec b) { return _mm512_add_ps(a, b); }
  static Vec Sub(Vec a, Vec b) { return _mm512_sub_ps(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm512_mul_ps(a, b); }
  static Vec MulAdd(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }      // a b + c
  static Vec NegMulAdd(Vec a, Vec b, Vec c) { return _mm512_fnmadd_ps(a, b, c); }  // c - a b
  static Vec Div(Vec a, Vec b) { return _mm512_div_ps(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm512_max_ps(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm512_min_ps(a, b); }  // b where either is NaN
  static Vec Neg(Vec a) {
    return _mm512_castsi512_ps(
        _mm512_xor_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MIN)));
  }
  static Vec WithSignOf(Vec magnitude, Vec sign) {  // magnitude's sign bit clear
    return _mm512_castsi512_ps(_mm512_ternarylogic_epi32(
        _mm512_castps_si512(magnitude), _mm512_castps_si512(sign), _mm512_set1_epi32(INT32_MIN),
        0xF8));  // magnitude | (sign & mask)
  }
  using Int = __m512i;
  static Int Bits(Vec a) { return _mm512_castps_si512(a); }
  template <int kShift>
  static Int ShiftRightInt(Int a) {
    return _mm512_srli_epi32(a, kShift);
  }
  static Int SubInt(Int a, int b) { return _mm512_sub_epi32(a, _mm512_set1_epi32(b)); }
  static Int ClampInt(Int a, int lo, int hi) {
    return _mm512_min_epi32(_mm512_max_epi32(a, _mm512_set1_epi32(lo)), _mm512_set1_epi32(hi));
  }
  // table[i] for i < 32: the table's two registers, one permute
  static Vec Lookup32(const float* table, Int i) {
    return _mm512_permutex2var_ps(_mm512_load_ps(table), i, _mm512_load_ps(table + 16));
  }
  static Vec Abs(Vec a) {
    return _mm512_castsi512_ps(
        _mm512_and_si512(_mm512_castps_si512(a), _mm512_set1_epi32(INT32_MAX)));
  }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ), if_not,
                                if_so);
  }
  static __m512d WidenLow(Vec a) { return _mm512_cvtps_pd(_mm512_castps512_ps256(a)); }
  static __m512d WidenHigh(Vec a) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a), 1)));
  }
  static Vec Narrow(__m512d low, __m512d high) {
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(low))),
                           _mm256_castps_pd(_mm512_cvtpd_ps(high)), 1));
  }
};

struct D8 {
  using T = double;
  using Vec = __m512d;
  static constexpr int N = 8;
  static Vec Load(const T* p) { return _mm512_loadu_pd(p); }
  static void Store(T* p, Vec v) { _mm512_storeu_pd(p, v); }
  static Vec Set1(T a) { return _mm512_set1_pd(a); }
  static Vec Add(Vec a, Vec b) { return _mm512_add_pd(a, b); }
  static Vec Div(Vec a, Vec b) { return _mm512_div_pd(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm512_max_pd(a, b); }
  static Vec Neg(Vec a) {
    return _mm512_castsi512_pd(
        _mm512_xor_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MIN)));
  }
  static Vec Abs(Vec a) {
    return _mm512_castsi512_pd(
        _mm512_and_si512(_mm512_castpd_si512(a), _mm512_set1_epi64(INT64_MAX)));
  }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(x, _mm512_setzero_pd(), _CMP_GE_OQ), if_not,
                                if_so);
  }
};

constinit const Table kAvx512 = TENSORD_VMATH_TABLE(F16, D8, f16, d8, avx512f);

}  // namespace

const Table& Avx512Loops() { return kAvx512; }

}  // namespace tensord::vmath
