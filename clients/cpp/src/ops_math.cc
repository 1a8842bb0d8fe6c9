#include "tensord/ops_math.h"

#include "absl/strings/str_cat.h"
#include "src/op_util.h"
#include "tensord/ops_reduce.h"

namespace tensord::client {

Var Round(Var x, const std::string& mode) {
  if (mode == "half_away_from_zero") return RoundHalfAwayFromZero(x);
  if (mode == "half_to_even") return RoundHalfToEven(x);
  return internal::Fail(
      x.builder(), "round",
      absl::StrCat("mode '", mode, "' is not half_away_from_zero or half_to_even"));
}

Var IsClose(Var a, Var b, double rtol, double atol, bool equal_nan) {
  AttrMap attrs = {
      {"rtol", FloatAttr(rtol)}, {"atol", FloatAttr(atol)}, {"equal_nan", BoolAttr(equal_nan)}};
  // Its rule is code, not schema data: bool whatever the inputs (compared in their promotion).
  return internal::Elemwise(
      "isclose", {a, b}, [](const std::vector<DType>&) -> absl::StatusOr<DType> { return kBool; },
      std::move(attrs));
}

Var AllClose(Var a, Var b, double rtol, double atol, bool equal_nan) {
  Var not_close = Sum(Invert(IsClose(a, b, rtol, atol, equal_nan)));
  if (!not_close.valid()) return Var();
  return Eq(not_close, not_close.builder()->Constant(HostTensor::Scalar<int64_t>(0)));
}

std::vector<Var> IfElse(Var cond, const std::vector<Var>& then_values,
                        const std::vector<Var>& else_values) {
  std::vector<Var> inputs = {cond};
  inputs.insert(inputs.end(), then_values.begin(), then_values.end());
  inputs.insert(inputs.end(), else_values.begin(), else_values.end());
  GraphBuilder* b = internal::Check("ifelse", inputs);
  if (!b) return {};
  if (cond.ndim() != 0) {
    internal::Fail(b, "ifelse", "the condition must be a scalar");
    return {};
  }
  if (then_values.empty() || then_values.size() != else_values.size()) {
    internal::Fail(b, "ifelse",
                   absl::StrCat("needs as many else values as then values (at least one), got ",
                                then_values.size(), " and ", else_values.size()));
    return {};
  }
  std::vector<::tensord::v1::TensorType> types;
  for (size_t i = 0; i < then_values.size(); ++i) {
    const auto t = then_values[i].type(), e = else_values[i].type();
    if (t.SerializeAsString() != e.SerializeAsString()) {
      internal::Fail(
          b, "ifelse",
          absl::StrCat("the two branches should have identical types, but value ", i, " differs"));
      return {};
    }
    types.push_back(t);
  }
  return b->Apply("ifelse", inputs, {}, types);
}

Var IfElse(Var cond, Var then_value, Var else_value) {
  std::vector<Var> out = IfElse(cond, std::vector<Var>{then_value}, std::vector<Var>{else_value});
  return out.empty() ? Var() : out[0];
}

}  // namespace tensord::client
