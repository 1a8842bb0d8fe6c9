// The SSE2 loops of vector_math.h (every x86-64 CPU has SSE2) and the choice between them, the
// AVX2 ones and the AVX-512 ones.
#include "engine/ops/scalar/vector_math.h"

#include <emmintrin.h>
#include <sleef.h>

#include <atomic>
#include <initializer_list>

#include "engine/ops/scalar/vector_math_kernels.h"

#define TENSORD_VMATH_VARIANT cinz_  // SLEEF's deterministic functions (without FMA)
// Without FMA the quotient's residual is not exact: float32 sigmoid is computed in double.
#define TENSORD_VMATH_F32_SIGMOID(VF, VD, F, D, ISA) \
  Map<VF, InDouble<VF, TENSORD_VMATH_SIGMOID(VD, D, ISA)>>
// Without FMA the table's polynomials lose their last bit: float32 tanh is SLEEF's.
#define TENSORD_VMATH_F32_TANH(VF, F, ISA) TENSORD_VMATH_MAP(VF, tanh, F, u10, ISA)

namespace tensord::vmath {

const Table& Avx2Loops();    // vector_math_avx2.cc
const Table& Avx512Loops();  // vector_math_avx512.cc

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
  static __m128d WidenLow(Vec a) { return _mm_cvtps_pd(a); }
  static __m128d WidenHigh(Vec a) { return _mm_cvtps_pd(_mm_movehl_ps(a, a)); }
  static Vec Narrow(__m128d low, __m128d high) {
    return _mm_movelh_ps(_mm_cvtpd_ps(low), _mm_cvtpd_ps(high));
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

const Table* LoopsFor(Isa isa) {
  __builtin_cpu_init();
  // __builtin_cpu_supports also checks that the kernel saves the registers (XGETBV).
  switch (isa) {
    case Isa::kAvx512:
      return __builtin_cpu_supports("avx512f") ? &Avx512Loops() : nullptr;
    case Isa::kAvx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? &Avx2Loops()
                                                                             : nullptr;
    case Isa::kSse2:
      return &kSse2;
  }
  return nullptr;
}

namespace {
std::atomic<const Table*> chosen{nullptr};
}  // namespace

const Table& Loops() {
  if (const Table* t = chosen.load(std::memory_order_acquire)) return *t;
  const Table* widest = &kSse2;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512})
    if (const Table* t = LoopsFor(isa)) widest = t;
  const Table* expected = nullptr;  // UseLoops may have won meanwhile
  chosen.compare_exchange_strong(expected, widest, std::memory_order_acq_rel);
  return *chosen.load(std::memory_order_acquire);
}

std::optional<Isa> IsaNamed(std::string_view name) {
  if (name == "avx512f") return Isa::kAvx512;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "sse2") return Isa::kSse2;
  return std::nullopt;
}

bool UseLoops(Isa isa) {
  const Table* t = LoopsFor(isa);
  if (t != nullptr) chosen.store(t, std::memory_order_release);
  return t != nullptr;
}

}  // namespace tensord::vmath
