// Elementwise arithmetic: add, sub, mul, true_div, pow, neg, exp, log.
#include "engine/backends/cpu/elementwise.h"

#include <cmath>
#include <type_traits>

#include "engine/ops/defs/type_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

struct AddOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a + b);
  }
};
struct SubOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a - b);
  }
};
struct MulOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    return static_cast<T>(a * b);
  }
};
struct TrueDivOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a, T b) {
    return a / b;
  }
};
struct PowOp {
  static constexpr bool kFloatOnly = false;
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
struct NegOp {
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
struct ExpOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return std::exp(a);
  }
};
struct LogOp {
  static constexpr bool kFloatOnly = true;
  template <class T>
  static T Apply(T a) {
    return std::log(a);
  }
};

OpDef Elementwise(std::string name, int min_in, int max_in, std::string doc, ElemDTypeRule rule,
                  MakeKernelFn kernel) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = min_in;
  d.max_inputs = max_in;
  d.doc = std::move(doc);
  d.infer_types = [rule](const ir::Apply& node) { return InferElementwise(node, rule); };
  d.input_dtypes = AllInputsAsOutput;
  d.make_cpu_kernel = std::move(kernel);
  return d;
}

}  // namespace

void RegisterElementwise(Registry& r) {
  using cpu::FoldKernel;
  using cpu::MakeKernel;
  using cpu::UnaryKernel;
  r.Add(Elementwise("add", 2, -1, "add(a, b, ...) -> a + b + ... (numpy.add)",
                    ElemDTypeRule::kUpcast, MakeKernel<FoldKernel<AddOp>>()));
  r.Add(Elementwise("mul", 2, -1, "mul(a, b, ...) -> a * b * ... (numpy.multiply)",
                    ElemDTypeRule::kUpcast, MakeKernel<FoldKernel<MulOp>>()));
  r.Add(Elementwise("sub", 2, 2, "sub(a, b) -> a - b (numpy.subtract)",
                    ElemDTypeRule::kUpcastNoBool, MakeKernel<FoldKernel<SubOp>>()));
  r.Add(Elementwise("true_div", 2, 2, "true_div(a, b) -> a / b (numpy.true_divide)",
                    ElemDTypeRule::kUpgradeToFloat, MakeKernel<FoldKernel<TrueDivOp>>()));
  r.Add(Elementwise("pow", 2, 2, "pow(a, b) -> a ** b (numpy.power)", ElemDTypeRule::kUpcast,
                    MakeKernel<FoldKernel<PowOp>>()));
  r.Add(Elementwise("neg", 1, 1, "neg(a) -> -a (numpy.negative)", ElemDTypeRule::kUpcastNoBool,
                    MakeKernel<UnaryKernel<NegOp>>()));
  r.Add(Elementwise("exp", 1, 1, "exp(a) (numpy.exp)", ElemDTypeRule::kUpgradeToFloat,
                    MakeKernel<UnaryKernel<ExpOp>>()));
  r.Add(Elementwise("log", 1, 1, "log(a) (numpy.log)", ElemDTypeRule::kUpgradeToFloat,
                    MakeKernel<UnaryKernel<LogOp>>()));
}

}  // namespace tensord::ops
