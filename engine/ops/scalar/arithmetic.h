// Scalar forms of the arithmetic elementwise ops: the math of each op, written once. The
// standalone kernels and the composite interpreter (fusion) both evaluate these functors through
// the loops of engine/ops/scalar_form.h, so fusing never changes a result.
//
// A functor has `template <class T> static R Apply(T...)`, where T is the dtype the op computes
// in (inputs arrive cast to it) and R is T, or bool for predicates; and `kFloatOnly` when the op
// is only defined on float32/float64 (its type rule upgrades integers to floats). A functor the
// vector math library computes on floats also names its function there (`kVector`, `kVector2`
// for binary ones); the loops use it for float32/float64 and Apply stays the definition. Headers
// here include only the C++ standard library and vector_math.h (declarations), so that any
// provider can compile them.
#pragma once

#include <cmath>
#include <type_traits>

#include "engine/ops/scalar/vector_math.h"

namespace tensord::scalar {

struct Add {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a + b);
  }
};
struct Sub {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a - b);
  }
};
struct Mul {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a * b);
  }
};
struct TrueDiv {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a, T b) {
    return a / b;
  }
};
struct Pow {
  static constexpr bool kFloatOnly = false;
  static constexpr vmath::Fn2 kVector2 = vmath::Fn2::kPow;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::pow(a, b);
    } else if constexpr (std::is_same_v<T, bool>) {
      return a || !b;
    } else {
      // Integer power by squaring; negative exponents truncate toward zero like 1/a^|b|.
      if constexpr (std::is_signed_v<T>) {
        if (b < 0) return a == 1 ? 1 : a == -1 ? ((b % 2) ? -1 : 1) : 0;
      }
      T result = 1;
      T base = a;
      for (auto e = b; e > 0; e >>= 1) {
        if (e & 1) result = static_cast<T>(result * base);
        base = static_cast<T>(base * base);
      }
      return result;
    }
  }
};
struct Neg {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_same_v<T, bool>) {
      return a;  // unreachable: type inference refuses neg of bool
    } else {
      return static_cast<T>(-a);
    }
  }
};

// NumPy's npy_divmod: Python's floor-division convention for floats, the quotient snapped to an
// integer so that a == q * b + r holds as closely as floating point allows.
template <class T>
T FloatDivmod(T a, T b, T* modulus) {
  T mod = std::fmod(a, b);
  if (b == 0) {
    *modulus = mod;
    return a / b;
  }
  T div = (a - mod) / b;
  if (mod != 0) {  // true for NaN too, as in C's `if (mod)`
    if ((b < 0) != (mod < 0)) {
      mod += b;
      div -= T(1);
    }
  } else {
    mod = std::copysign(T(0), b);
  }
  T floordiv;
  if (div != 0) {
    floordiv = std::floor(div);
    if (div - floordiv > T(0.5)) floordiv += T(1);
  } else {
    floordiv = std::copysign(T(0), a / b);
  }
  *modulus = mod;
  return floordiv;
}

struct IntDiv {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      T mod;
      return FloatDivmod(a, b, &mod);
    } else {
      if (b == 0) return T(0);  // NumPy: integer division by zero gives 0 (with a warning)
      if constexpr (std::is_signed_v<T>) {
        // x // -1 is -x, which wraps for the most negative value; the division itself would trap.
        if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));
        T q = static_cast<T>(a / b);
        if (static_cast<T>(a % b) != 0 && ((a < 0) != (b < 0))) --q;
        return q;
      }
      return static_cast<T>(a / b);
    }
  }
};

struct Mod {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      if (b == 0) return std::fmod(a, b);  // NaN, without divmod's spurious inf
      T mod;
      FloatDivmod(a, b, &mod);
      return mod;
    } else {
      if (b == 0) return T(0);
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return T(0);  // a % -1 would trap for the most negative value
        T r = static_cast<T>(a % b);
        if (r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
        return r;
      }
      return static_cast<T>(a % b);
    }
  }
};

struct Abs {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::fabs(a);
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<T>(a < 0 ? -a : a);  // the most negative value wraps, as in NumPy
    } else {
      return a;
    }
  }
};

struct Sgn {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;
      return a > 0 ? T(1) : a < 0 ? T(-1) : a;
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<T>((a > 0) - (a < 0));
    } else {
      return static_cast<T>(a > 0);
    }
  }
};

struct Sqr {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(a * a);
  }
};

// NumPy's maximum/minimum: a NaN in either operand propagates.
struct Maximum {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      // Bitwise | evaluates both compares, so the loop vectorizes to compares and a blend (a
      // short-circuit || is a branch per element, 10x slower); a != a is isnan(a).
      return ((a >= b) | (a != a)) ? a : b;
    } else {
      return a >= b ? a : b;
    }
  }
};
struct Minimum {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return ((a <= b) | (a != a)) ? a : b;  // branch-free, as Maximum
    } else {
      return a <= b ? a : b;
    }
  }
};
// numpy.clip is minimum(maximum(x, lo), hi): with lo > hi every element becomes hi.
struct Clip {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T x, T lo, T hi) {
    return Minimum::Apply<T>(Maximum::Apply<T>(x, lo), hi);
  }
};

// Integers are already integral: rounding them is the identity (numpy.round keeps their dtype).
struct RoundHalfToEven {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::nearbyint(a);  // the default rounding mode rounds ties to even, like numpy.rint
    } else {
      return a;
    }
  }
};
struct RoundHalfAway {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) {
      return std::round(a);
    } else {
      return a;
    }
  }
};

// Float-only unary functions of <cmath>: their type rule upgrades integers to floats.
#define TENSORD_SCALAR_FLOAT_UNARY(Name, fn) \
  struct Name {                              \
    static constexpr bool kFloatOnly = true; \
    template <class T>                       \
    static T Apply(T a) {                    \
      return fn(a);                          \
    }                                        \
  };
// ... and those the vector math library computes too.
#define TENSORD_SCALAR_VECTOR_UNARY(Name, fn, vector_fn)       \
  struct Name {                                                \
    static constexpr bool kFloatOnly = true;                   \
    static constexpr vmath::Fn kVector = vmath::Fn::vector_fn; \
    template <class T>                                         \
    static T Apply(T a) {                                      \
      return fn(a);                                            \
    }                                                          \
  };
TENSORD_SCALAR_VECTOR_UNARY(Exp, std::exp, kExp)
TENSORD_SCALAR_VECTOR_UNARY(Log, std::log, kLog)
TENSORD_SCALAR_FLOAT_UNARY(Sqrt, std::sqrt)
TENSORD_SCALAR_FLOAT_UNARY(Floor, std::floor)
TENSORD_SCALAR_FLOAT_UNARY(Ceil, std::ceil)
TENSORD_SCALAR_FLOAT_UNARY(Trunc, std::trunc)

}  // namespace tensord::scalar
