// Vectorized float math for the transcendental elementwise ops: SLEEF's functions (libsleef-dev)
// over contiguous arrays. SLEEF was chosen over Highway's contrib/math by measurement
// (docs/performance.md, "Vector math"): both are 4-20x faster than glibc's scalar functions
// here, but only SLEEF has erf, erfc and pow, and Highway's exp, log and sin are wrong outside
// their documented ranges. The u10 variants (at most 1 ULP; erfc 1.5) are used throughout, so
// results are as accurate as glibc's and stated per function in the tests. Two float32
// functions are our own where the set has FMA (vector_math_kernels.h): sigmoid, a corrected
// quotient over SLEEF's exp (1.5 ULP, 4x faster than computing in double), and tanh, piecewise
// polynomials (1 ULP; 7x faster than SLEEF's on AVX-512, 2.4x on AVX2).
//
// The loops are AVX-512's (16 floats or 8 doubles per step) where the CPU has AVX512F, else
// AVX2+FMA's (8 or 4), else SSE2's (4 or 2), unless UseLoops named a narrower set. Every element
// goes through SLEEF's deterministic functions (vector_math_kernels.h), and a tail is padded to
// a full vector, so a result depends neither on its position in the array nor on its
// neighbours. AVX-512 and AVX2 give the same bits; SSE2's, without FMA, may differ in the last
// place, each within the bounds tests/conformance/test_vector_math.py checks on every set the
// CPU has.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace tensord::vmath {

enum class Fn : int {
  kExp,
  kExp2,
  kExpm1,
  kLog,
  kLog2,
  kLog10,
  kLog1p,
  kSin,
  kCos,
  kTan,
  kArcsin,
  kArccos,
  kArctan,
  kSinh,
  kCosh,
  kTanh,
  kErf,
  kErfc,
  kSigmoid,
  kSoftplus,
  kCount
};
enum class Fn2 : int { kPow, kArctan2, kCount };

template <class T>
using Unary = void (*)(const T* a, T* r, int64_t n);
template <class T>
using Binary = void (*)(const T* a, const T* b, T* r, int64_t n);

struct Table {
  const char* isa;  // "avx512f", "avx2" or "sse2"
  Unary<float> f32[static_cast<int>(Fn::kCount)];
  Unary<double> f64[static_cast<int>(Fn::kCount)];
  Binary<float> f32_binary[static_cast<int>(Fn2::kCount)];
  Binary<double> f64_binary[static_cast<int>(Fn2::kCount)];
};

// The loops every kernel calls: the widest this CPU has, unless UseLoops chose others.
const Table& Loops();

enum class Isa { kAvx512, kAvx2, kSse2 };
// One instruction set's loops, or nullptr where this CPU (or its kernel) lacks it.
const Table* LoopsFor(Isa isa);
// Makes every kernel call `isa`'s loops from now on (the server's --vector_math_isa, set before
// any kernel runs: to reproduce another machine's bits, or to test each set); false, and no
// change, where the CPU lacks it.
bool UseLoops(Isa isa);
// The set a Table's `isa` names ("avx512f", "avx2", "sse2"), or nullopt.
std::optional<Isa> IsaNamed(std::string_view name);

// r[i] = f(a[i]) for i < n; r may be a.
template <class T>
inline void Apply(Fn f, const T* a, T* r, int64_t n) {
  const Table& t = Loops();
  if constexpr (sizeof(T) == 4) {
    t.f32[static_cast<int>(f)](a, r, n);
  } else {
    t.f64[static_cast<int>(f)](a, r, n);
  }
}
// r[i] = f(a[i], b[i]); r may be a or b.
template <class T>
inline void Apply(Fn2 f, const T* a, const T* b, T* r, int64_t n) {
  const Table& t = Loops();
  if constexpr (sizeof(T) == 4) {
    t.f32_binary[static_cast<int>(f)](a, b, r, n);
  } else {
    t.f64_binary[static_cast<int>(f)](a, b, r, n);
  }
}

}  // namespace tensord::vmath
