// The SSE2 loops of vector_math.h (every x86-64 CPU has SSE2) and the choice between them and
// the AVX2 ones.
#include "engine/ops/scalar/vector_math.h"

#include <emmintrin.h>
#include <sleef.h>

#include "engine/ops/scalar/vector_math_kernels.h"

namespace tensord::vmath {

const Table& Avx2Loops();  // vector_math_avx2.cc

namespace {

struct F4 {
  using T = float;
  using Vec = __m128;
  static constexpr int N = 4;
  static Vec Load(const T* p) { return _mm_loadu_ps(p); }
  static void Store(T* p, Vec v) { _mm_storeu_ps(p, v); }
  static Vec Set1(T a) { return _mm_set1_ps(a); }
  static Vec Add(Vec a, Vec b) { return _mm_add_ps(a, b); }
  static Vec Div(Vec a, Vec b) { return _mm_div_ps(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm_max_ps(a, b); }
  static Vec Neg(Vec a) { return _mm_xor_ps(a, _mm_set1_ps(-0.0f)); }
  static Vec Abs(Vec a) { return _mm_andnot_ps(_mm_set1_ps(-0.0f), a); }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    const Vec mask = _mm_cmpge_ps(x, _mm_setzero_ps());
    return _mm_or_ps(_mm_and_ps(mask, if_so), _mm_andnot_ps(mask, if_not));
  }
};

struct D2 {
  using T = double;
  using Vec = __m128d;
  static constexpr int N = 2;
  static Vec Load(const T* p) { return _mm_loadu_pd(p); }
  static void Store(T* p, Vec v) { _mm_storeu_pd(p, v); }
  static Vec Set1(T a) { return _mm_set1_pd(a); }
  static Vec Add(Vec a, Vec b) { return _mm_add_pd(a, b); }
  static Vec Div(Vec a, Vec b) { return _mm_div_pd(a, b); }
  static Vec Max(Vec a, Vec b) { return _mm_max_pd(a, b); }
  static Vec Neg(Vec a) { return _mm_xor_pd(a, _mm_set1_pd(-0.0)); }
  static Vec Abs(Vec a) { return _mm_andnot_pd(_mm_set1_pd(-0.0), a); }
  static Vec SelectNonNegative(Vec x, Vec if_so, Vec if_not) {
    const Vec mask = _mm_cmpge_pd(x, _mm_setzero_pd());
    return _mm_or_pd(_mm_and_pd(mask, if_so), _mm_andnot_pd(mask, if_not));
  }
};

constinit const Table kSse2 = TENSORD_VMATH_TABLE(F4, D2, f4, d2, sse2);

}  // namespace

const Table& Loops() {
  static const Table* const chosen = [] {
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return avx2 ? &Avx2Loops() : &kSse2;
  }();
  return *chosen;
}

}  // namespace tensord::vmath
