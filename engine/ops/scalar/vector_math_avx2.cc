// The AVX2+FMA loops of vector_math.h. Built with -mavx2 -mfma (engine/CMakeLists.txt) and
// called only on CPUs that have both (vector_math.cc checks): so this file includes nothing
// but intrinsics, SLEEF and its own internal-linkage templates.
#include <immintrin.h>
#include <sleef.h>

#include "engine/ops/scalar/vector_math_kernels.h"

#define TENSORD_VMATH_VARIANT finz_  // SLEEF's deterministic functions (with FMA)
#define TENSORD_VMATH_F32_SIGMOID(VF, VD, F, D, ISA) \
  Map<VF, SigmoidCorrected<VF, TENSORD_VMATH_FN(exp, F, u10, ISA)>>
#define TENSORD_VMATH_F32_TANH(VF, F, ISA) Map<VF, TanhPiecewise<VF>>

namespace tensord::vmath {
namespace {

struct F8 {
  using T = float;
  using Vec = __m256;
  static constexpr int N = 8;
  static Vec Load(const T* p) { return _mm256_loadu_ps(p); }
  static void Store(T* p, Vec v) { _mm256_storeu_ps(p, v); }
  static Vec Set1(T a) { return _mm256_set1_ps(a); }
  static Vec Add(Vec a, Vec b) { return _mm256_add_ps(a, b); }
  static Vec Sub(Vec a, Vec b) { return _mm256_sub_ps(a, b); }
  static Vec Mul(Vec a, Vec b) { return _mm256_mul_ps(a, b); }
  static Vec MulAdd(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }      // a b + c
  static Vec NegMulAdd(Vec a, Vec b, Vec c) { return _mm256_fnmadd_ps(a, b, c); }  // c - a b
  static Vec Div(Vec a, Vec b) { return _mm256_div_ps(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm256_max_ps(a, b); }
  static Vec Min(Vec a, Vec b) { return _mm256_min_ps(a, b); }  // b where either is NaN
  static Vec Neg(Vec a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static Vec Abs(Vec a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a); }
  static Vec WithSignOf(Vec magnitude, Vec sign) {  // magnitude's sign bit clear
    return _mm256_or_ps(magnitude, _mm256_and_ps(sign, _mm256_set1_ps(-0.0f)));
  }
  using Int = __m256i;
  static Int Bits(Vec a) { return _mm256_castps_si256(a); }
  template <int kShift>
  static Int ShiftRightInt(Int a) {
    return _mm256_srli_epi32(a, kShift);
  }
  static Int SubInt(Int a, int b) { return _mm256_sub_epi32(a, _mm256_set1_epi32(b)); }
  static Int ClampInt(Int a, int lo, int hi) {
    return _mm256_min_epi32(_mm256_max_epi32(a, _mm256_set1_epi32(lo)), _mm256_set1_epi32(hi));
  }
  // table[i] for i < 32: each quarter of the table permuted by i's low 3 bits, then bits 3 and
  // 4 (moved into the sign bit, which blendv reads) pick among them
  static Vec Lookup32(const float* table, Int i) {
    const Vec q0 = _mm256_permutevar8x32_ps(_mm256_load_ps(table), i);
    const Vec q1 = _mm256_permutevar8x32_ps(_mm256_load_ps(table + 8), i);
    const Vec q2 = _mm256_permutevar8x32_ps(_mm256_load_ps(table + 16), i);
    const Vec q3 = _mm256_permutevar8x32_ps(_mm256_load_ps(table + 24), i);
    const Vec bit3 = _mm256_castsi256_ps(_mm256_slli_epi32(i, 28));
    const Vec bit4 = _mm256_castsi256_ps(_mm256_slli_epi32(i, 27));
    return _mm256_blendv_ps(_mm256_blendv_ps(q0, q1, bit3), _mm256_blendv_ps(q2, q3, bit3), bit4);
  }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    return _mm256_blendv_ps(if_not, if_so, _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ));
  }
  static __m256d WidenLow(Vec a) { return _mm256_cvtps_pd(_mm256_castps256_ps128(a)); }
  static __m256d WidenHigh(Vec a) { return _mm256_cvtps_pd(_mm256_extractf128_ps(a, 1)); }
  static Vec Narrow(__m256d low, __m256d high) {
    return _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(low)), _mm256_cvtpd_ps(high),
                                1);
  }
};

struct D4 {
  using T = double;
  using Vec = __m256d;
  static constexpr int N = 4;
  static Vec Load(const T* p) { return _mm256_loadu_pd(p); }
  static void Store(T* p, Vec v) { _mm256_storeu_pd(p, v); }
  static Vec Set1(T a) { return _mm256_set1_pd(a); }
  static Vec Add(Vec a, Vec b) { return _mm256_add_pd(a, b); }
  static Vec Div(Vec a, Vec b) { return _mm256_div_pd(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm256_max_pd(a, b); }
  static Vec Neg(Vec a) { return _mm256_xor_pd(a, _mm256_set1_pd(-0.0)); }
  static Vec Abs(Vec a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    return _mm256_blendv_pd(if_not, if_so, _mm256_cmp_pd(x, _mm256_setzero_pd(), _CMP_GE_OQ));
  }
};

constinit const Table kAvx2 = TENSORD_VMATH_TABLE(F8, D4, f8, d4, avx2);

}  // namespace

const Table& Avx2Loops() { return kAvx2; }

}  // namespace tensord::vmath
