#include "tensord/ops_math.h"

#include "absl/strings/str_cat.h"
#include "src/op_util.h"
#include "tensord/ops_reduce.h"

namespace tensord::client {
namespace {

using internal::Elemwise;
using internal::Promote;
using internal::PromoteNoBool;
using internal::PromoteToFloat;

DType ToBool(const std::vector<DType>& dtypes) {
  return DTypeSize(Promote(dtypes)) == 0 ? ::tensord::v1::DT_INVALID : kBool;
}

DType IntOrBool(const std::vector<DType>& dtypes) {
  const DType out = Promote(dtypes);
  return out == kBool || IsInteger(out) ? out : ::tensord::v1::DT_INVALID;
}

}  // namespace

Var IntDiv(Var a, Var b) { return Elemwise("int_div", {a, b}, PromoteNoBool); }
Var Mod(Var a, Var b) { return Elemwise("mod", {a, b}, PromoteNoBool); }
Var Abs(Var x) { return Elemwise("abs", {x}, Promote); }
Var Sgn(Var x) { return Elemwise("sgn", {x}, PromoteNoBool); }
Var Sqr(Var x) { return Elemwise("sqr", {x}, Promote); }
Var Sqrt(Var x) { return Elemwise("sqrt", {x}, PromoteToFloat); }
Var Maximum(Var a, Var b) { return Elemwise("maximum", {a, b}, Promote); }
Var Minimum(Var a, Var b) { return Elemwise("minimum", {a, b}, Promote); }
Var Clip(Var x, Var lo, Var hi) { return Elemwise("clip", {x, lo, hi}, Promote); }
Var RoundHalfToEven(Var x) { return Elemwise("round_half_to_even", {x}, PromoteNoBool); }
Var RoundHalfAwayFromZero(Var x) {
  return Elemwise("round_half_away_from_zero", {x}, PromoteNoBool);
}

Var Round(Var x, const std::string& mode) {
  if (mode == "half_away_from_zero") return RoundHalfAwayFromZero(x);
  if (mode == "half_to_even") return RoundHalfToEven(x);
  return internal::Fail(
      x.builder(), "round",
      absl::StrCat("mode '", mode, "' is not half_away_from_zero or half_to_even"));
}

Var Floor(Var x) { return Elemwise("floor", {x}, PromoteToFloat); }
Var Ceil(Var x) { return Elemwise("ceil", {x}, PromoteToFloat); }
Var Trunc(Var x) { return Elemwise("trunc", {x}, PromoteToFloat); }
Var Expm1(Var x) { return Elemwise("expm1", {x}, PromoteToFloat); }
Var Log1p(Var x) { return Elemwise("log1p", {x}, PromoteToFloat); }
Var Log2(Var x) { return Elemwise("log2", {x}, PromoteToFloat); }
Var Log10(Var x) { return Elemwise("log10", {x}, PromoteToFloat); }
Var Sin(Var x) { return Elemwise("sin", {x}, PromoteToFloat); }
Var Cos(Var x) { return Elemwise("cos", {x}, PromoteToFloat); }
Var Tan(Var x) { return Elemwise("tan", {x}, PromoteToFloat); }
Var Arcsin(Var x) { return Elemwise("arcsin", {x}, PromoteToFloat); }
Var Arccos(Var x) { return Elemwise("arccos", {x}, PromoteToFloat); }
Var Arctan(Var x) { return Elemwise("arctan", {x}, PromoteToFloat); }
Var Sinh(Var x) { return Elemwise("sinh", {x}, PromoteToFloat); }
Var Cosh(Var x) { return Elemwise("cosh", {x}, PromoteToFloat); }
Var Tanh(Var x) { return Elemwise("tanh", {x}, PromoteToFloat); }
Var Erf(Var x) { return Elemwise("erf", {x}, PromoteToFloat); }
Var Erfc(Var x) { return Elemwise("erfc", {x}, PromoteToFloat); }
Var Gamma(Var x) { return Elemwise("gamma", {x}, PromoteToFloat); }
Var Gammaln(Var x) { return Elemwise("gammaln", {x}, PromoteToFloat); }
Var Sigmoid(Var x) { return Elemwise("sigmoid", {x}, PromoteToFloat); }
Var Softplus(Var x) { return Elemwise("softplus", {x}, PromoteToFloat); }
Var Arctan2(Var a, Var b) { return Elemwise("arctan2", {a, b}, PromoteToFloat); }

Var Gt(Var a, Var b) { return Elemwise("gt", {a, b}, ToBool); }
Var Lt(Var a, Var b) { return Elemwise("lt", {a, b}, ToBool); }
Var Ge(Var a, Var b) { return Elemwise("ge", {a, b}, ToBool); }
Var Le(Var a, Var b) { return Elemwise("le", {a, b}, ToBool); }
Var Eq(Var a, Var b) { return Elemwise("eq", {a, b}, ToBool); }
Var Neq(Var a, Var b) { return Elemwise("neq", {a, b}, ToBool); }
Var IsNan(Var x) { return Elemwise("isnan", {x}, ToBool); }
Var IsInf(Var x) { return Elemwise("isinf", {x}, ToBool); }

Var IsClose(Var a, Var b, double rtol, double atol, bool equal_nan) {
  AttrMap attrs = {
      {"rtol", FloatAttr(rtol)}, {"atol", FloatAttr(atol)}, {"equal_nan", BoolAttr(equal_nan)}};
  return Elemwise("isclose", {a, b}, ToBool, std::move(attrs));
}

Var AllClose(Var a, Var b, double rtol, double atol, bool equal_nan) {
  Var not_close = Sum(Invert(IsClose(a, b, rtol, atol, equal_nan)));
  if (!not_close.valid()) return Var();
  return Eq(not_close, not_close.builder()->Constant(HostTensor::Scalar<int64_t>(0)));
}

Var And(Var a, Var b) { return Elemwise("and", {a, b}, IntOrBool); }
Var Or(Var a, Var b) { return Elemwise("or", {a, b}, IntOrBool); }
Var Xor(Var a, Var b) { return Elemwise("xor", {a, b}, IntOrBool); }
Var Invert(Var x) { return Elemwise("invert", {x}, IntOrBool); }

Var Switch(Var cond, Var a, Var b) {
  return Elemwise("switch", {cond, a, b},
                  [](const std::vector<DType>& d) { return ResultType(d[1], d[2]); });
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
