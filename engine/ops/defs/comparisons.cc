// Comparisons (gt lt ge le eq neq, isnan, isinf, isclose), logic/bitwise (and or xor invert)
// and switch. Comparisons compare in the inputs' NumPy promotion and give bool.
#include <cmath>
#include <type_traits>

#include "engine/backends/cpu/elementwise.h"
#include "engine/ops/defs/elemwise_kernels.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

#define TENSORD_COMPARE(Name, expr) \
  struct Name {                     \
    template <class T>              \
    static bool Apply(T a, T b) {   \
      return expr;                  \
    }                               \
  };
TENSORD_COMPARE(GtOp, a > b)
TENSORD_COMPARE(LtOp, a < b)
TENSORD_COMPARE(GeOp, a >= b)
TENSORD_COMPARE(LeOp, a <= b)
TENSORD_COMPARE(EqOp, a == b)
TENSORD_COMPARE(NeqOp, a != b)
#undef TENSORD_COMPARE

// Integers are never NaN or infinite.
struct IsNanOp {
  template <class T>
  static bool Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(a);
    return false;
  }
};
struct IsInfOp {
  template <class T>
  static bool Apply(T a) {
    if constexpr (std::is_floating_point_v<T>) return std::isinf(a);
    return false;
  }
};

absl::StatusOr<std::vector<ir::Type>> InferBool(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto types, InferElementwise(node, ElemDTypeRule::kUpcast));
  types[0].dtype = DType::kBool;
  return types;
}

// numpy.isclose computes in the promotion of `a` with float(`b`): ints become float64.
DType IscloseDType(const ir::Apply& node) {
  DType b = node.inputs[1]->type.dtype;
  return Promote(node.inputs[0]->type.dtype, IsFloat(b) ? b : DType::kFloat64);
}

class IscloseKernel final : public Kernel {
 public:
  IscloseKernel(double rtol, double atol, bool equal_nan)
      : rtol_(rtol), atol_(atol), equal_nan_(equal_nan) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return cpu::DispatchFloat(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T rtol = static_cast<T>(rtol_), atol = static_cast<T>(atol_);
      const bool equal_nan = equal_nan_;
      // NumPy's formula: infinities are close only to themselves (via x == y).
      return elemwise::BroadcastMap<bool, T, T>(in, DType::kBool, *out[0], [=](T x, T y) {
        bool close = (std::fabs(x - y) <= atol + rtol * std::fabs(y) && std::isfinite(y)) || x == y;
        return close || (equal_nan && std::isnan(x) && std::isnan(y));
      });
    });
  }

 private:
  double rtol_, atol_;
  bool equal_nan_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeIscloseKernel(const ir::Apply& node) {
  double rtol = 1e-5, atol = 1e-8;
  bool equal_nan = false;
  if (node.attrs.count("rtol")) {
    TENSORD_ASSIGN_OR_RETURN(rtol, ir::GetAttr<double>(node, "rtol"));
  }
  if (node.attrs.count("atol")) {
    TENSORD_ASSIGN_OR_RETURN(atol, ir::GetAttr<double>(node, "atol"));
  }
  if (node.attrs.count("equal_nan")) {
    TENSORD_ASSIGN_OR_RETURN(equal_nan, ir::GetAttr<bool>(node, "equal_nan"));
  }
  return std::unique_ptr<Kernel>(new IscloseKernel(rtol, atol, equal_nan));
}

// Bitwise on integers, logical on bool (the same operation on 0/1).
struct AndOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return T(0);  // refused by type inference
    else
      return static_cast<T>(a & b);
  }
};
struct OrOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return T(0);  // refused by type inference
    else
      return static_cast<T>(a | b);
  }
};
struct XorOp {
  static constexpr bool kFloatOnly = false;
  template <class T>
  static T Apply(T a, T b) {
    if constexpr (std::is_floating_point_v<T>)
      return T(0);  // refused by type inference
    else
      return static_cast<T>(a ^ b);
  }
};
struct InvertOp {
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

// switch(cond, a, b): cond arrives cast to bool (nonzero, NaN included, is true), a and b in the
// output dtype.
class SwitchKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return cpu::DispatchAll(in[1]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return elemwise::BroadcastMap<T, bool, T, T>(in, in[1]->dtype(), *out[0],
                                                   [](bool c, T a, T b) { return c ? a : b; });
    });
  }
};

absl::StatusOr<std::vector<ir::Type>> InferSwitch(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto types, InferElementwise(node, ElemDTypeRule::kUpcast));
  types[0].dtype = Promote(node.inputs[1]->type.dtype, node.inputs[2]->type.dtype);
  if (types[0].dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return types;
}

OpDef Predicate(std::string name, int arity, std::string doc, MakeKernelFn kernel) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = d.max_inputs = arity;
  d.doc = std::move(doc);
  d.infer_types = InferBool;
  d.make_cpu_kernel = std::move(kernel);
  d.differentiable = false;
  return d;
}

bool IntOrBool(DType d) { return d == DType::kBool || IsInteger(d); }

}  // namespace

void RegisterComparisons(Registry& r) {
  using cpu::MakeKernel;
  using elemwise::CompareKernel;
  auto compare = [&](const char* name, const char* sym, const char* numpy, MakeKernelFn kernel) {
    OpDef d =
        Predicate(name, 2, absl::StrCat(name, "(a, b) -> a ", sym, " b as bool (", numpy, ")"),
                  std::move(kernel));
    d.input_dtypes = AllInputsAsCommon;
    r.Add(std::move(d));
  };
  compare("gt", ">", "numpy.greater", MakeKernel<CompareKernel<GtOp>>());
  compare("lt", "<", "numpy.less", MakeKernel<CompareKernel<LtOp>>());
  compare("ge", ">=", "numpy.greater_equal", MakeKernel<CompareKernel<GeOp>>());
  compare("le", "<=", "numpy.less_equal", MakeKernel<CompareKernel<LeOp>>());
  compare("eq", "==", "numpy.equal", MakeKernel<CompareKernel<EqOp>>());
  compare("neq", "!=", "numpy.not_equal", MakeKernel<CompareKernel<NeqOp>>());
  r.Add(Predicate("isnan", 1, "isnan(a) as bool; false for ints (numpy.isnan)",
                  MakeKernel<elemwise::PredicateKernel<IsNanOp>>()));
  r.Add(Predicate("isinf", 1, "isinf(a) as bool; false for ints (numpy.isinf)",
                  MakeKernel<elemwise::PredicateKernel<IsInfOp>>()));
  OpDef isclose = Predicate("isclose", 2,
                            "isclose(a, b; rtol=1e-05, atol=1e-08, equal_nan=false) as bool "
                            "(numpy.isclose)",
                            MakeIscloseKernel);
  isclose.input_dtypes = [](const ir::Apply& node) {
    return std::vector<std::optional<DType>>(2, IscloseDType(node));
  };
  isclose.infer_types = [](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
    if (IscloseDType(node) == DType::kFloat16) return Unimplemented("float16 is not supported yet");
    return InferBool(node);
  };
  r.Add(std::move(isclose));

  auto bitwise = [&](const char* name, int arity, std::string doc, MakeKernelFn kernel) {
    OpDef d = elemwise::Elementwise(name, arity, std::move(doc), ElemDTypeRule::kUpcast,
                                    std::move(kernel));
    d.infer_types = elemwise::InferRestricted(ElemDTypeRule::kUpcast, IntOrBool, "integer or bool");
    d.differentiable = false;
    r.Add(std::move(d));
  };
  bitwise("and", 2, "and(a, b) -> a & b, logical on bool (numpy.bitwise_and)",
          MakeKernel<cpu::FoldKernel<AndOp>>());
  bitwise("or", 2, "or(a, b) -> a | b, logical on bool (numpy.bitwise_or)",
          MakeKernel<cpu::FoldKernel<OrOp>>());
  bitwise("xor", 2, "xor(a, b) -> a ^ b, logical on bool (numpy.bitwise_xor)",
          MakeKernel<cpu::FoldKernel<XorOp>>());
  bitwise("invert", 1, "invert(a) -> ~a, logical not on bool (numpy.invert)",
          MakeKernel<cpu::UnaryKernel<InvertOp>>());

  OpDef sw;
  sw.name = "switch";
  sw.min_inputs = sw.max_inputs = 3;
  sw.doc = "switch(cond, a, b): a where cond != 0 else b, in a and b's promotion (numpy.where)";
  sw.infer_types = InferSwitch;
  sw.input_dtypes = [](const ir::Apply& node) {
    DType t = node.outputs[0]->type.dtype;
    return std::vector<std::optional<DType>>{DType::kBool, t, t};
  };
  sw.make_cpu_kernel = MakeKernel<SwitchKernel>();
  r.Add(std::move(sw));
}

}  // namespace tensord::ops
