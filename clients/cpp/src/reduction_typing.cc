#include "src/reduction_typing.h"

#include "absl/strings/str_cat.h"
#include "src/op_util.h"

namespace tensord::client::internal {

namespace v1 = ::tensord::v1;

const ReductionOp* FindReductionOp(absl::string_view name) {
  return FindByName(ReductionOps(), name);
}

absl::StatusOr<std::vector<DType>> ReducedDTypes(const ReductionOp& op, DType input,
                                                 DType dtype_attr) {
  std::vector<DType> dtypes;
  for (v1::ReducedDType rule : op.outputs) {
    switch (rule) {
      case v1::REDUCED_DTYPE_SAME:
        dtypes.push_back(input);
        break;
      case v1::REDUCED_DTYPE_ACCUMULATE:
        dtypes.push_back(dtype_attr != v1::DT_INVALID ? dtype_attr : SumDType(input));
        break;
      case v1::REDUCED_DTYPE_BOOL:
        dtypes.push_back(kBool);
        break;
      case v1::REDUCED_DTYPE_INDEX:
        dtypes.push_back(kInt64);
        break;
      case v1::REDUCED_DTYPE_FLOAT:
        dtypes.push_back(input == kFloat32 ? kFloat32 : kFloat64);
        break;
      default:
        // A rule added to the schema after this interpreter: refuse rather than guess a type
        // the server would reject at Compile.
        return absl::InvalidArgumentError(
            absl::StrCat("output ", dtypes.size(), " has reduced dtype rule ",
                         v1::ReducedDType_Name(rule), ", which this client cannot apply"));
    }
  }
  return dtypes;
}

}  // namespace tensord::client::internal
