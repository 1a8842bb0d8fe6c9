// Comparisons (gt lt ge le eq neq, isnan, isinf, isclose), logic/bitwise (and or xor invert)
// and switch. Comparisons compare in the inputs' NumPy promotion and give bool.
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/elementwise_decl.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/logic.h"

namespace tensord::ops {
namespace {

// numpy.isclose computes in the promotion of `a` with float(`b`): ints become float64.
DType IscloseDType(const ir::Apply& node) {
  DType b = node.inputs[1]->type.dtype;
  return Promote(node.inputs[0]->type.dtype, IsFloat(b) ? b : DType::kFloat64);
}

// Each branch gets gz where it was taken. The condition gets none: Theano assumes a small
// change of it never flips a branch (its gradient is zero).
Grads SwitchGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  ir::Variable* c = node.inputs[0];
  ir::Variable* zero = b.ConstantLike(0, gz[0]);
  return b.SumToInputs(node, {nullptr, b.Switch(c, gz[0], zero), b.Switch(c, zero, gz[0])});
}

}  // namespace

void RegisterComparisons(Registry& r) {
  const ElementwiseTyping compare{ElemDTypeRule::kUpcast, DTypeClass::kAny, /*bool_out=*/true};
  auto comparison = [&]<class F>(F, const char* name, const char* sym, const char* numpy,
                                 const char* theano, int opcode, uint32_t tags) {
    OpDef d = BinaryOp<F>(name, absl::StrCat(name, "(a, b) -> a ", sym, " b as bool (", numpy, ")"),
                          compare, {name, theano}, opcode, kNotDifferentiable, tags);
    d.scalar->format = absl::StrCat(theano, "($0, $1)");
    r.Add(std::move(d));
  };
  comparison(scalar::Gt{}, "gt", ">", "numpy.greater", "GT", 40, 0);
  comparison(scalar::Lt{}, "lt", "<", "numpy.less", "LT", 41, 0);
  comparison(scalar::Ge{}, "ge", ">=", "numpy.greater_equal", "GE", 42, 0);
  comparison(scalar::Le{}, "le", "<=", "numpy.less_equal", "LE", 43, 0);
  comparison(scalar::Eq{}, "eq", "==", "numpy.equal", "EQ", 44, kTagCommutative);
  comparison(scalar::Neq{}, "neq", "!=", "numpy.not_equal", "NEQ", 45, kTagCommutative);
  r.Add(UnaryOp<scalar::IsNan>("isnan", "isnan(a) as bool; false for ints (numpy.isnan)", compare,
                               {"isnan", "IsNan"}, 46, kNotDifferentiable));
  r.Add(UnaryOp<scalar::IsInf>("isinf", "isinf(a) as bool; false for ints (numpy.isinf)", compare,
                               {"isinf", "IsInf"}, 47, kNotDifferentiable));

  OpDef isclose;
  isclose.name = "isclose";
  isclose.min_inputs = isclose.max_inputs = 2;
  isclose.doc = "isclose(a, b; rtol=1e-05, atol=1e-08, equal_nan=false) as bool (numpy.isclose)";
  isclose.input_dtypes = [](const ir::Apply& node) {
    return std::vector<std::optional<DType>>(2, IscloseDType(node));
  };
  isclose.infer_types = [](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
    if (IscloseDType(node) == DType::kFloat16) return Unimplemented("float16 is not supported yet");
    return InferTyped(node, {ElemDTypeRule::kUpcast, DTypeClass::kAny, /*bool_out=*/true});
  };

  isclose.differentiable = false;
  isclose.infer_shape = BroadcastShape;
  isclose.attrs = {"rtol", "atol", "equal_nan"};
  isclose.tags = kTagElementwise;
  r.Add(std::move(isclose));

  const ElementwiseTyping bitwise{ElemDTypeRule::kUpcast, DTypeClass::kIntOrBool};
  r.Add(BinaryOp<scalar::And>("and", "and(a, b) -> a & b, logical on bool (numpy.bitwise_and)",
                              bitwise, {"and_", "AND"}, -1, kNotDifferentiable, kTagCommutative));
  r.Add(BinaryOp<scalar::Or>("or", "or(a, b) -> a | b, logical on bool (numpy.bitwise_or)", bitwise,
                             {"or_", "OR"}, -1, kNotDifferentiable, kTagCommutative));
  r.Add(BinaryOp<scalar::Xor>("xor", "xor(a, b) -> a ^ b, logical on bool (numpy.bitwise_xor)",
                              bitwise, {"xor", "XOR"}, -1, kNotDifferentiable, kTagCommutative));
  r.Add(UnaryOp<scalar::Invert>("invert", "invert(a) -> ~a, logical not on bool (numpy.invert)",
                                bitwise, {"invert", "Invert"}, -1, kNotDifferentiable));

  r.Add(Elementwise<scalar::Switch, 3>(
      {.name = "switch",
       .min_inputs = 3,
       .max_inputs = 3,
       .doc = "switch(cond, a, b): a where cond != 0 else b, in a and b's promotion (numpy.where)",
       .typing = {ElemDTypeRule::kUpcast, DTypeClass::kAny, false, /*condition_in=*/true},
       .theano = {"switch", "Switch"},
       .opcode = 39,
       .format = "Switch($0, $1, $2)",
       .grad = SwitchGrad}));
}

}  // namespace tensord::ops
