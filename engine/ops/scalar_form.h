// An elementwise op's scalar form: its math (a functor of engine/ops/scalar/) compiled into the
// inner loops that every evaluator of the op calls, so the math is written once. As NumPy's
// ufunc loops, each loop applies the functor along one row of n elements; the caller (a
// provider's broadcasting kernel, the composite interpreter) walks the rows.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

#include "engine/common/dtype.h"
#include "engine/ops/scalar/vector_math.h"

namespace tensord::ops {

// out[i] = f(args[0][i * steps[0]], args[1][i * steps[1]], ...) for i < n; `out` is contiguous,
// steps are in elements (0 broadcasts one value along the row). The arguments are in the loop's
// dtype (the first is bool for kBoolCondition functors), the output in that dtype or bool.
using ElementLoop = void (*)(const void* const* args, const int64_t* steps, void* out, int64_t n);

// The composite interpreter's loops: r[i] = f(a[i], b[i], c[i]) over contiguous chunks of
// n <= kCompositeChunk elements in the composite's float dtype (unused arguments null);
// predicates give 1 or 0. `r` overlaps no argument.
template <class T>
using ChunkLoop = void (*)(const T* a, const T* b, const T* c, T* r, int64_t n);
// Binary ops with one operand the same for every element: r[i] = f(a[i], s), or f(s, a[i]) when
// `scalar_first`.
template <class T>
using ChunkScalarLoop = void (*)(const T* a, T s, bool scalar_first, T* r, int64_t n);

// Elements per composite chunk: a few chunk-long scratch arrays stay in L1/L2 while the loops over
// them are long enough to vectorize and to amortize the per-instruction dispatch.
constexpr int64_t kCompositeChunk = 1024;

struct ScalarForm {
  int arity = 0;
  bool predicate = false;       // the output is bool
  bool bool_condition = false;  // the first argument is bool (switch)
  // By the dtype the op computes in (DType's value); null where the op is not defined.
  std::array<ElementLoop, kNumDTypes> loops{};
  ChunkLoop<float> chunk_f32 = nullptr;
  ChunkLoop<double> chunk_f64 = nullptr;
  ChunkScalarLoop<float> chunk_scalar_f32 = nullptr;  // binary ops only
  ChunkScalarLoop<double> chunk_scalar_f64 = nullptr;
  // Fusion: the op's opcode in composite programs (part of the wire format: a client may send a
  // composite, so opcodes never change) and its rendering in Theano's Composite names, $0..$2
  // standing for the arguments. -1: the fusion pass leaves the op alone.
  int opcode = -1;
  std::string format;

  ElementLoop Loop(DType d) const {
    const int i = static_cast<int>(d);
    return i >= 0 && i < kNumDTypes ? loops[i] : nullptr;
  }
};

namespace scalar_loops {

// Functors whose first argument is a condition declare kBoolCondition (switch).
template <class F>
constexpr bool kHasBoolCondition = requires {
  F::kBoolCondition;
};

template <class F, class T, size_t I>
using Arg = std::conditional_t<I == 0 && kHasBoolCondition<F>, bool, T>;

template <class F, class T, size_t... I>
using Result = decltype(F::template Apply<T>(std::declval<Arg<F, T, I>>()...));

template <class F, class T, class Seq>
struct ResultOf;
template <class F, class T, size_t... I>
struct ResultOf<F, T, std::index_sequence<I...>> {
  using type = Result<F, T, I...>;
};

// Functors the vector math library computes (engine/ops/scalar/vector_math.h) take it for
// float32/float64 everywhere: contiguous rows, gathered strided rows and composite chunks, so
// a result never depends on the loop that computed it.
template <class F, class T, int Arity>
constexpr bool kVectorized = std::is_floating_point_v<T> &&
                             ((Arity == 1 && requires { F::kVector; }) ||
                              (Arity == 2 && requires { F::kVector2; }));

template <class F, int Arity, class T>
void VectorRow(const T* a, const T* b, T* r, int64_t n) {
  if constexpr (Arity == 1) {
    vmath::Apply(F::kVector, a, r, n);
  } else {
    vmath::Apply(F::kVector2, a, b, r, n);
  }
}

// A strided row in blocks gathered into contiguous scratch.
template <class F, class T, size_t... I>
void GatheredVectorRow(const void* const* args, const int64_t* steps, T* r, int64_t n) {
  constexpr int kArity = sizeof...(I);
  T scratch[kArity][kCompositeChunk];
  for (int64_t i0 = 0; i0 < n; i0 += kCompositeChunk) {
    const int64_t m = std::min(kCompositeChunk, n - i0);
    const T* block[2] = {nullptr, nullptr};
    for (int k = 0; k < kArity; ++k) {
      const T* a = static_cast<const T*>(args[k]) + i0 * steps[k];
      if (steps[k] == 1) {
        block[k] = a;
        continue;
      }
      for (int64_t i = 0; i < m; ++i) scratch[k][i] = a[i * steps[k]];
      block[k] = scratch[k];
    }
    VectorRow<F, kArity>(block[0], block[1], r + i0, m);
  }
}

template <class F, class T, size_t... I>
void Strided(std::index_sequence<I...>, const void* const* args, const int64_t* steps, void* out,
             int64_t n) {
  if constexpr (kVectorized<F, T, sizeof...(I)>) {
    T* r = static_cast<T*>(out);
    if (((steps[I] == 1) && ...)) {
      VectorRow<F, sizeof...(I)>(static_cast<const T*>(args[0]),
                                 sizeof...(I) > 1 ? static_cast<const T*>(args[1]) : nullptr, r, n);
    } else {
      GatheredVectorRow<F, T, I...>(args, steps, r, n);
    }
    return;
  }
  using R = Result<F, T, I...>;
  const std::tuple<const Arg<F, T, I>*...> a{static_cast<const Arg<F, T, I>*>(args[I])...};
  R* r = static_cast<R*>(out);
  if constexpr (sizeof...(I) == 2) {
    // One operand broadcast along the row (x + 1, maximum(x, 0)): hoisting it leaves the
    // contiguous loop, which vectorizes where the strided one does not for every functor.
    const auto* a0 = std::get<0>(a);
    const auto* a1 = std::get<1>(a);
    if (steps[0] == 1 && steps[1] == 0) {
      const auto s = *a1;
      for (int64_t i = 0; i < n; ++i) r[i] = F::template Apply<T>(a0[i], s);
      return;
    }
    if (steps[0] == 0 && steps[1] == 1) {
      const auto s = *a0;
      for (int64_t i = 0; i < n; ++i) r[i] = F::template Apply<T>(s, a1[i]);
      return;
    }
  }
  if (((steps[I] == 1) && ...)) {  // the contiguous case, kept simple for vectorizers
    for (int64_t i = 0; i < n; ++i) r[i] = F::template Apply<T>(std::get<I>(a)[i]...);
  } else {
    for (int64_t i = 0; i < n; ++i) r[i] = F::template Apply<T>(std::get<I>(a)[i * steps[I]]...);
  }
}

template <class F, class T, int Arity>
void Row(const void* const* args, const int64_t* steps, void* out, int64_t n) {
  Strided<F, T>(std::make_index_sequence<Arity>{}, args, steps, out, n);
}

// The composite's loops. Arguments never alias the result (the interpreter's scratch plan gives
// each result a slot its arguments do not hold), hence __restrict.
template <class F, class T, int Arity, class N>
[[gnu::always_inline]] inline void Chunk(const T* __restrict a, const T* __restrict b,
                                         const T* __restrict c, T* __restrict r, N n) {
  for (int64_t i = 0; i < n; ++i) {
    if constexpr (Arity == 1) {
      r[i] = static_cast<T>(F::template Apply<T>(a[i]));
    } else if constexpr (Arity == 2) {
      r[i] = static_cast<T>(F::template Apply<T>(a[i], b[i]));
    } else {
      r[i] = static_cast<T>(F::template Apply<T>(a[i], b[i], c[i]));
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TENSORD_CHUNK_CLONES [[gnu::target_clones("avx512f", "avx2", "default")]]
#else
#define TENSORD_CHUNK_CLONES  // other targets, and clang (no clones of templates): one build
#endif

// Full chunks, the hot path, are compiled for AVX-512 and AVX2 as well as for the baseline and
// picked at load time (an ifunc): four or two times the lanes where the CPU has them. The functor
// is inlined into each clone; the libm functions it calls are the same and nothing is contracted
// into a fused multiply-add (-ffp-contract=off), so every clone gives the same bits. A constant
// trip count lets them vectorize without an epilogue.
template <class F, class T, int Arity>
TENSORD_CHUNK_CLONES void FullChunk(const T* a, const T* b, const T* c, T* r) {
  Chunk<F, T, Arity>(a, b, c, r, std::integral_constant<int64_t, kCompositeChunk>{});
}

template <class F, class T, int Arity>
void AnyChunk(const T* a, const T* b, const T* c, T* r, int64_t n) {
  if constexpr (kVectorized<F, T, Arity>) return VectorRow<F, Arity>(a, b, r, n);
  if (n == kCompositeChunk) return FullChunk<F, T, Arity>(a, b, c, r);
  Chunk<F, T, Arity>(a, b, c, r, n);
}

template <class F, class T, class N>
[[gnu::always_inline]] inline void WithScalar(const T* __restrict a, T s, bool scalar_first,
                                              T* __restrict r, N n) {
  if (scalar_first) {
    for (int64_t i = 0; i < n; ++i) r[i] = static_cast<T>(F::template Apply<T>(s, a[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) r[i] = static_cast<T>(F::template Apply<T>(a[i], s));
  }
}

template <class F, class T>
TENSORD_CHUNK_CLONES void FullChunkWithScalar(const T* a, T s, bool scalar_first, T* r) {
  WithScalar<F, T>(a, s, scalar_first, r, std::integral_constant<int64_t, kCompositeChunk>{});
}

template <class F, class T>
void AnyChunkWithScalar(const T* a, T s, bool scalar_first, T* r, int64_t n) {
  if constexpr (kVectorized<F, T, 2>) {
    T spread[kCompositeChunk];
    std::fill_n(spread, n, s);
    return scalar_first ? VectorRow<F, 2>(spread, a, r, n) : VectorRow<F, 2>(a, spread, r, n);
  }
  if (n == kCompositeChunk) return FullChunkWithScalar<F, T>(a, s, scalar_first, r);
  WithScalar<F, T>(a, s, scalar_first, r, n);
}

#undef TENSORD_CHUNK_CLONES

template <class F, int Arity, class T>
void SetLoop(ScalarForm& form) {
  form.loops[static_cast<int>(DTypeOf<T>())] = &Row<F, T, Arity>;
}

}  // namespace scalar_loops

// The scalar form of functor F (engine/ops/scalar/) taking `Arity` arguments: its loops for every
// dtype F is defined on.
template <class F, int Arity>
ScalarForm MakeScalarForm() {
  using namespace scalar_loops;
  ScalarForm form;
  form.arity = Arity;
  form.bool_condition = kHasBoolCondition<F>;
  form.predicate =
      std::is_same_v<typename ResultOf<F, double, std::make_index_sequence<Arity>>::type, bool>;
  SetLoop<F, Arity, float>(form);
  SetLoop<F, Arity, double>(form);
  if constexpr (!F::kFloatOnly) {
    SetLoop<F, Arity, bool>(form);
    SetLoop<F, Arity, int8_t>(form);
    SetLoop<F, Arity, int16_t>(form);
    SetLoop<F, Arity, int32_t>(form);
    SetLoop<F, Arity, int64_t>(form);
    SetLoop<F, Arity, uint8_t>(form);
    SetLoop<F, Arity, uint16_t>(form);
    SetLoop<F, Arity, uint32_t>(form);
    SetLoop<F, Arity, uint64_t>(form);
  }
  form.chunk_f32 = &AnyChunk<F, float, Arity>;
  form.chunk_f64 = &AnyChunk<F, double, Arity>;
  if constexpr (Arity == 2) {
    form.chunk_scalar_f32 = &AnyChunkWithScalar<F, float>;
    form.chunk_scalar_f64 = &AnyChunkWithScalar<F, double>;
  }
  return form;
}

}  // namespace tensord::ops
