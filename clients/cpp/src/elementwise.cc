#include "src/elementwise.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/op_util.h"
#include "tensord/ops.h"

namespace tensord::client {
namespace internal {

namespace v1 = ::tensord::v1;

namespace {

bool Accepts(v1::DTypeClass accepts, DType dtype) {
  switch (accepts) {
    case v1::DTYPE_CLASS_NOT_BOOL:
      return dtype != kBool;
    case v1::DTYPE_CLASS_INT_OR_BOOL:
      return dtype == kBool || IsInteger(dtype);
    default:
      return true;
  }
}

// The server's wording, so that both ends explain a refusal alike.
const char* AcceptsText(v1::DTypeClass accepts) {
  return accepts == v1::DTYPE_CLASS_NOT_BOOL ? "numeric (not bool)" : "integer or bool";
}

std::string Names(const std::vector<DType>& dtypes) {
  return absl::StrJoin(dtypes, ", ",
                       [](std::string* out, DType d) { absl::StrAppend(out, DTypeName(d)); });
}

std::string ArityText(const ElementwiseOp& op) {
  if (op.max_inputs < 0) return absl::StrCat("at least ", op.min_inputs, " inputs");
  if (op.max_inputs == op.min_inputs) {
    return absl::StrCat(op.min_inputs, op.min_inputs == 1 ? " input" : " inputs");
  }
  return absl::StrCat(op.min_inputs, " to ", op.max_inputs, " inputs");
}

}  // namespace

const ElementwiseOp* FindElementwiseOp(absl::string_view name) {
  return FindByName(ElementwiseOps(), name);
}

absl::StatusOr<DType> ElementwiseDType(const ElementwiseOp& op, const std::vector<DType>& dtypes) {
  // bool is promotion's identity, so a fold from it is the inputs' promotion. A condition input
  // (switch's) broadcasts with the others but takes no part in it.
  DType out = kBool;
  for (size_t i = op.condition_in ? 1 : 0; i < dtypes.size(); ++i) out = ResultType(out, dtypes[i]);
  if (DTypeSize(out) == 0) return absl::InvalidArgumentError("an input has no valid dtype");
  if (op.rule == v1::DTYPE_RULE_UPCAST_NO_BOOL && out == kBool) {
    return absl::InvalidArgumentError("not defined for bool inputs");
  }
  if (op.rule == v1::DTYPE_RULE_UPGRADE_TO_FLOAT) out = UpgradeToFloat(out);
  if (!Accepts(op.accepts, out)) {
    return absl::InvalidArgumentError(
        absl::StrCat("needs ", AcceptsText(op.accepts), " inputs, got ", Names(dtypes)));
  }
  return op.bool_out ? kBool : out;
}

}  // namespace internal

Var Elementwise(const std::string& op, std::vector<Var> inputs) {
  GraphBuilder* b = internal::BuilderOf(inputs);
  const internal::ElementwiseOp* row = internal::FindElementwiseOp(op);
  if (!row) {
    return internal::Fail(b, op,
                          "has no elementwise typing in the op schema this client was built from");
  }
  const int n = static_cast<int>(inputs.size());
  // A variadic op folds its inputs (add(a, b, ...) is a + b + ...), and the fold of one input is
  // that input: Add({x}) is x, as Theano's add(x) is, wherever the rule keeps x's dtype.
  if (n == 1 && row->max_inputs < 0 && inputs[0].valid()) {
    absl::StatusOr<DType> dtype = internal::ElementwiseDType(*row, {inputs[0].dtype()});
    if (dtype.ok() && *dtype == inputs[0].dtype()) return inputs[0];
  }
  if (n < row->min_inputs || (row->max_inputs >= 0 && n > row->max_inputs)) {
    return internal::Fail(b, op, absl::StrCat("takes ", internal::ArityText(*row), ", got ", n));
  }
  return internal::Elemwise(op, std::move(inputs), [row](const std::vector<DType>& dtypes) {
    return internal::ElementwiseDType(*row, dtypes);
  });
}

}  // namespace tensord::client
