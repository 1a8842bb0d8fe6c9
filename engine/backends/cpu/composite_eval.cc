#include "engine/backends/cpu/composite_eval.h"

#include <cmath>
#include <type_traits>

namespace tensord::cpu::composite_eval {
namespace {

// 1 / (1 + exp(-x)) overflows exp for very negative x; the two branches never do.
template <class T>
T Sigmoid(T a) {
  if (a >= 0) return T(1) / (T(1) + std::exp(-a));
  const T e = std::exp(a);
  return e / (T(1) + e);
}
template <class T>
T Softplus(T a) {
  return std::log1p(std::exp(-std::fabs(a))) + (a > 0 ? a : T(0));
}
// NumPy's maximum/minimum: a NaN in either operand propagates.
template <class T>
T Maximum(T a, T b) {
  return (a >= b || std::isnan(a)) ? a : b;
}
template <class T>
T Minimum(T a, T b) {
  return (a <= b || std::isnan(a)) ? a : b;
}
template <class T>
T Sgn(T a) {
  if (std::isnan(a)) return a;
  return a > 0 ? T(1) : a < 0 ? T(-1) : a;
}

// r[i] = op(a[i], b[i], c[i]) for i < n. `r` never overlaps an argument (the scratch plan
// gives each result a slot its arguments do not hold), so the loops vectorize without alias
// checks; N is a compile-time chunk length for full chunks, so they need no epilogue either.
template <class T, class N>
[[gnu::always_inline]] inline void Loops(ScalarOp op, const T* __restrict a, const T* __restrict b,
                                         const T* __restrict c, T* __restrict r, N n) {
#define TENSORD_UNARY(OP, EXPR)       \
  case ScalarOp::OP:                  \
    for (int64_t i = 0; i < n; ++i) { \
      const T x = a[i];               \
      r[i] = (EXPR);                  \
    }                                 \
    return;
#define TENSORD_BINARY(OP, EXPR)      \
  case ScalarOp::OP:                  \
    for (int64_t i = 0; i < n; ++i) { \
      const T x = a[i], y = b[i];     \
      r[i] = (EXPR);                  \
    }                                 \
    return;
  switch (op) {
    TENSORD_BINARY(kAdd, x + y)
    TENSORD_BINARY(kSub, x - y)
    TENSORD_BINARY(kMul, x * y)
    TENSORD_BINARY(kTrueDiv, x / y)
    TENSORD_BINARY(kPow, std::pow(x, y))
    TENSORD_UNARY(kNeg, -x)
    TENSORD_UNARY(kExp, std::exp(x))
    TENSORD_UNARY(kLog, std::log(x))
    TENSORD_UNARY(kLog1p, std::log1p(x))
    TENSORD_UNARY(kExpm1, std::expm1(x))
    TENSORD_UNARY(kLog2, std::log2(x))
    TENSORD_UNARY(kLog10, std::log10(x))
    TENSORD_UNARY(kSqrt, std::sqrt(x))
    TENSORD_UNARY(kSqr, x * x)
    TENSORD_UNARY(kAbs, std::fabs(x))
    TENSORD_UNARY(kSgn, Sgn(x))
    TENSORD_BINARY(kMaximum, Maximum(x, y))
    TENSORD_BINARY(kMinimum, Minimum(x, y))
    TENSORD_UNARY(kTanh, std::tanh(x))
    TENSORD_UNARY(kSigmoid, Sigmoid(x))
    TENSORD_UNARY(kSoftplus, Softplus(x))
    TENSORD_UNARY(kSin, std::sin(x))
    TENSORD_UNARY(kCos, std::cos(x))
    TENSORD_UNARY(kTan, std::tan(x))
    TENSORD_UNARY(kArcsin, std::asin(x))
    TENSORD_UNARY(kArccos, std::acos(x))
    TENSORD_UNARY(kArctan, std::atan(x))
    TENSORD_UNARY(kSinh, std::sinh(x))
    TENSORD_UNARY(kCosh, std::cosh(x))
    TENSORD_UNARY(kErf, std::erf(x))
    TENSORD_UNARY(kErfc, std::erfc(x))
    TENSORD_UNARY(kFloor, std::floor(x))
    TENSORD_UNARY(kCeil, std::ceil(x))
    TENSORD_UNARY(kTrunc, std::trunc(x))
    TENSORD_UNARY(kRoundHalfToEven, std::nearbyint(x))
    TENSORD_UNARY(kRoundHalfAway, std::round(x))
    TENSORD_BINARY(kArctan2, std::atan2(x, y))
    TENSORD_BINARY(kGt, x > y ? T(1) : T(0))
    TENSORD_BINARY(kLt, x < y ? T(1) : T(0))
    TENSORD_BINARY(kGe, x >= y ? T(1) : T(0))
    TENSORD_BINARY(kLe, x <= y ? T(1) : T(0))
    TENSORD_BINARY(kEq, x == y ? T(1) : T(0))
    TENSORD_BINARY(kNeq, x != y ? T(1) : T(0))
    TENSORD_UNARY(kIsnan, std::isnan(x) ? T(1) : T(0))
    TENSORD_UNARY(kIsinf, std::isinf(x) ? T(1) : T(0))
    case ScalarOp::kFill:  // the model (a) only takes part in broadcasting
      for (int64_t i = 0; i < n; ++i) r[i] = b[i];
      return;
    case ScalarOp::kClip:
      for (int64_t i = 0; i < n; ++i) r[i] = Minimum(Maximum(a[i], b[i]), c[i]);
      return;
    case ScalarOp::kSwitch:  // a cast to bool: nonzero, NaN included, is true
      for (int64_t i = 0; i < n; ++i) r[i] = a[i] != T(0) ? b[i] : c[i];
      return;
    case ScalarOp::kConst:
    case ScalarOp::kCount:
      return;
  }
#undef TENSORD_UNARY
#undef TENSORD_BINARY
}

// Binary arithmetic with a scalar operand, as x or y of the expression. Plain loops over
// restrict pointers (no lambdas, whose captures would hide the restrict) so they vectorize.
template <class T, class N>
[[gnu::always_inline]] inline bool WithScalar(ScalarOp op, const T* __restrict a, T s,
                                              bool scalar_first, T* __restrict r, N n) {
#define TENSORD_WITH_SCALAR(OP, EXPR)   \
  case ScalarOp::OP:                    \
    if (scalar_first) {                 \
      for (int64_t i = 0; i < n; ++i) { \
        const T x = s, y = a[i];        \
        r[i] = (EXPR);                  \
      }                                 \
    } else {                            \
      for (int64_t i = 0; i < n; ++i) { \
        const T x = a[i], y = s;        \
        r[i] = (EXPR);                  \
      }                                 \
    }                                   \
    return true;
  switch (op) {
    TENSORD_WITH_SCALAR(kAdd, x + y)
    TENSORD_WITH_SCALAR(kSub, x - y)
    TENSORD_WITH_SCALAR(kMul, x * y)
    TENSORD_WITH_SCALAR(kTrueDiv, x / y)
    TENSORD_WITH_SCALAR(kMaximum, Maximum(x, y))
    TENSORD_WITH_SCALAR(kMinimum, Minimum(x, y))
    default:
      return false;
  }
#undef TENSORD_WITH_SCALAR
}

using Full = std::integral_constant<int64_t, kChunk>;

#if defined(__x86_64__) && defined(__GNUC__)
#define TENSORD_CLONES [[gnu::target_clones("avx2", "default")]]
#else
#define TENSORD_CLONES  // other targets: one build for the baseline
#endif

// Full chunks, the hot path, are compiled for AVX2 as well as for the baseline and picked at load
// time (an ifunc): twice the lanes where the CPU has them. The loops are inlined into each
// clone, so they are compiled for its target; the scalar functions they call (libm) are the
// same, so both clones give the same bits. A constant trip count lets them vectorize without an
// epilogue.
TENSORD_CLONES void Chunk(ScalarOp op, const float* a, const float* b, const float* c, float* r) {
  Loops<float>(op, a, b, c, r, Full{});
}
TENSORD_CLONES void Chunk(ScalarOp op, const double* a, const double* b, const double* c,
                          double* r) {
  Loops<double>(op, a, b, c, r, Full{});
}
TENSORD_CLONES bool ChunkWithScalar(ScalarOp op, const float* a, float s, bool first, float* r) {
  return WithScalar<float>(op, a, s, first, r, Full{});
}
TENSORD_CLONES bool ChunkWithScalar(ScalarOp op, const double* a, double s, bool first, double* r) {
  return WithScalar<double>(op, a, s, first, r, Full{});
}

#undef TENSORD_CLONES

}  // namespace

void Eval(ScalarOp op, const float* a, const float* b, const float* c, float* r, int64_t n) {
  if (n == kChunk) return Chunk(op, a, b, c, r);
  Loops<float>(op, a, b, c, r, n);
}
void Eval(ScalarOp op, const double* a, const double* b, const double* c, double* r, int64_t n) {
  if (n == kChunk) return Chunk(op, a, b, c, r);
  Loops<double>(op, a, b, c, r, n);
}

bool EvalWithScalar(ScalarOp op, const float* a, float s, bool scalar_first, float* r, int64_t n) {
  if (n == kChunk) return ChunkWithScalar(op, a, s, scalar_first, r);
  return WithScalar<float>(op, a, s, scalar_first, r, n);
}
bool EvalWithScalar(ScalarOp op, const double* a, double s, bool scalar_first, double* r,
                    int64_t n) {
  if (n == kChunk) return ChunkWithScalar(op, a, s, scalar_first, r);
  return WithScalar<double>(op, a, s, scalar_first, r, n);
}

}  // namespace tensord::cpu::composite_eval
