// Elementwise arithmetic beyond the basics: int_div, mod, abs, sgn, sqr, sqrt, minimum, maximum,
// clip, the two roundings, floor, ceil, trunc. Results follow NumPy's ufuncs bit for bit where
// NumPy defines them (floor division and remainder replicate npy_divmod).
#include <cmath>
#include <type_traits>

#include "engine/backends/cpu/elementwise.h"
#include "engine/ops/defs/elemwise_kernels.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

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

struct IntDivOp {
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

struct ModOp {
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

struct AbsOp {
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

struct SgnOp {
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

struct SqrOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a) {
    return static_cast<T>(a * a);
  }
};

// NumPy's maximum/minimum: a NaN in either operand propagates.
struct MaximumOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return (a >= b || std::isnan(a)) ? a : b;
    } else {
      return a >= b ? a : b;
    }
  }
};
struct MinimumOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>) {
      return (a <= b || std::isnan(a)) ? a : b;
    } else {
      return a <= b ? a : b;
    }
  }
};

// numpy.clip is minimum(maximum(x, lo), hi): with lo > hi every element becomes hi.
class ClipKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return cpu::DispatchAll(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return elemwise::BroadcastMap<T, T, T, T>(in, in[0]->dtype(), *out[0], [](T x, T lo, T hi) {
        return MinimumOp::Apply<T>(MaximumOp::Apply<T>(x, lo), hi);
      });
    });
  }
};

// Integers are already integral: rounding them is the identity (numpy.round keeps their dtype).
struct RoundHalfToEvenOp {
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
struct RoundHalfAwayOp {
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

#define TENSORD_FLOAT_UNARY(Name, fn)        \
  struct Name {                              \
    static constexpr bool kFloatOnly = true; \
    template <class T>                       \
    static T Apply(T a) {                    \
      return fn(a);                          \
    }                                        \
  };
TENSORD_FLOAT_UNARY(SqrtOp, std::sqrt)
TENSORD_FLOAT_UNARY(FloorOp, std::floor)
TENSORD_FLOAT_UNARY(CeilOp, std::ceil)
TENSORD_FLOAT_UNARY(TruncOp, std::trunc)
#undef TENSORD_FLOAT_UNARY

bool NotBool(DType d) { return d != DType::kBool; }

}  // namespace

void RegisterElementwiseMath(Registry& r) {
  using cpu::FoldKernel;
  using cpu::MakeKernel;
  using cpu::UnaryKernel;
  using elemwise::Elementwise;
  using elemwise::InferRestricted;
  const auto upcast = ElemDTypeRule::kUpcast;
  const auto to_float = ElemDTypeRule::kUpgradeToFloat;

  OpDef int_div =
      Elementwise("int_div", 2, "int_div(a, b) -> a // b (numpy.floor_divide; integer x // 0 is 0)",
                  upcast, MakeKernel<FoldKernel<IntDivOp>>());
  int_div.infer_types = InferRestricted(upcast, NotBool, "numeric (not bool)");
  r.Add(std::move(int_div));
  OpDef mod =
      Elementwise("mod", 2, "mod(a, b) -> a % b, sign of b (numpy.remainder; integer x % 0 is 0)",
                  upcast, MakeKernel<FoldKernel<ModOp>>());
  mod.infer_types = InferRestricted(upcast, NotBool, "numeric (not bool)");
  r.Add(std::move(mod));

  r.Add(Elementwise("abs", 1, "abs(a) (numpy.absolute)", upcast, MakeKernel<UnaryKernel<AbsOp>>()));
  OpDef sgn = Elementwise("sgn", 1, "sgn(a) -> -1, 0 or 1; NaN stays NaN (numpy.sign)", upcast,
                          MakeKernel<UnaryKernel<SgnOp>>());
  sgn.infer_types = InferRestricted(upcast, NotBool, "numeric (not bool)");
  r.Add(std::move(sgn));
  r.Add(Elementwise("sqr", 1, "sqr(a) -> a * a, same dtype (numpy.square)", upcast,
                    MakeKernel<UnaryKernel<SqrOp>>()));
  r.Add(Elementwise("sqrt", 1, "sqrt(a), ints become floats (numpy.sqrt)", to_float,
                    MakeKernel<UnaryKernel<SqrtOp>>()));
  r.Add(Elementwise("maximum", 2, "maximum(a, b), NaN propagates (numpy.maximum)", upcast,
                    MakeKernel<FoldKernel<MaximumOp>>()));
  r.Add(Elementwise("minimum", 2, "minimum(a, b), NaN propagates (numpy.minimum)", upcast,
                    MakeKernel<FoldKernel<MinimumOp>>()));
  r.Add(Elementwise("clip", 3, "clip(x, lo, hi) -> minimum(maximum(x, lo), hi) (numpy.clip)",
                    upcast, MakeKernel<ClipKernel>()));

  OpDef even = Elementwise("round_half_to_even", 1,
                           "round_half_to_even(a): ties to even; ints unchanged (numpy.round)",
                           upcast, MakeKernel<UnaryKernel<RoundHalfToEvenOp>>());
  even.infer_types = InferRestricted(upcast, NotBool, "numeric (not bool)");
  r.Add(std::move(even));
  OpDef away = Elementwise("round_half_away_from_zero", 1,
                           "round_half_away_from_zero(a): ties away from 0; ints unchanged "
                           "(C round)",
                           upcast, MakeKernel<UnaryKernel<RoundHalfAwayOp>>());
  away.infer_types = InferRestricted(upcast, NotBool, "numeric (not bool)");
  r.Add(std::move(away));
  // Theano's upgrade_to_float: floor/ceil/trunc of ints give floats (NumPy 2 keeps ints).
  r.Add(Elementwise("floor", 1, "floor(a), ints become floats (numpy.floor)", to_float,
                    MakeKernel<UnaryKernel<FloorOp>>()));
  r.Add(Elementwise("ceil", 1, "ceil(a), ints become floats (numpy.ceil)", to_float,
                    MakeKernel<UnaryKernel<CeilOp>>()));
  r.Add(Elementwise("trunc", 1, "trunc(a), ints become floats (numpy.trunc)", to_float,
                    MakeKernel<UnaryKernel<TruncOp>>()));
}

}  // namespace tensord::ops
