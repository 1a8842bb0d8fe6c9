// Scalar forms of comparisons, predicates, bitwise logic and selection (see arithmetic.h for the
// conventions). Comparisons and predicates return bool; the composite interpreter stores that
// as 1 or 0 in its float dtype.
#pragma once

#include <cmath>
#include <type_traits>

namespace tensord::scalar {

#define TENSORD_SCALAR_COMPARE(Name, expr)    \
  struct Name {                               \
    static constexpr bool kFloatOnly = false; \
    template <class T>                        \
    static bool Apply(T a, T b) {             \
      return expr;                            \
    }                                         \
  };
TENSORD_SCALAR_COMPARE(Gt, a > b)
TENSORD_SCALAR_COMPARE(Lt, a < b)
TENSORD_SCALAR_COMPARE(Ge, a >= b)
TENSORD_SCALAR_COMPARE(Le, a <= b)
TENSORD_SCALAR_COMPARE(Eq, a == b)
TENSORD_SCALAR_COMPARE(Neq, a != b)
#undef TENSORD_SCALAR_COMPARE

// Integers are never NaN or infinite.
struct IsNan {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static bool Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(a);
    return false;
  }
};
struct IsInf {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static bool Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(a);
    return false;
  }
};

// Bitwise on integers, logical on bool (the same operation on 0/1); floats are refused by type
// inference, so their instantiations never run.
#define TENSORD_SCALAR_BITWISE(Name, op)         \
  struct Name {                                  \
    static constexpr bool kFloatOnly = false;    \
    template <class T>                           \
    static T Apply(T a, T b) {                   \
      if constexpr (std::is_floating_point_v<T>) \
        return T(0);                             \
      else                                       \
        return static_cast<T>(a op b);           \
    }                                            \
  };
TENSORD_SCALAR_BITWISE(And, &)
TENSORD_SCALAR_BITWISE(Or, |)
TENSORD_SCALAR_BITWISE(Xor, ^)
#undef TENSORD_SCALAR_BITWISE

struct Invert {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    if constexpr (std::is_same_v<T, bool>)
      return !a;
    else if constexpr (std::is_floating_point_v<T>)
      return T(0);  // refused by type inference
    else
      return static_cast<T>(~a);
  }
};

// switch(cond, a, b): true where cond is nonzero, NaN included, as a cast to bool. The
// standalone kernel passes cond as bool (kBoolCondition), the composite in its float dtype.
struct Switch {
  static constexpr bool kFloatOnly = false;
  static constexpr bool kBoolCondition = true;
  template <class T, class C>
  static T Apply(C c, T a, T b) {
    return c != C(0) ? a : b;
  }
};

// second(model, value) (Theano's fill): value; the model only takes part in broadcasting.
struct Second {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T, T value) {
    return value;
  }
};

}  // namespace tensord::scalar
