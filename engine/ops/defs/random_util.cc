#include "engine/ops/defs/random_util.h"

#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/int_args.h"

namespace tensord::ops::random {

absl::StatusOr<SampleAttrs> ReadSampleAttrs(const ir::Apply& node, bool float_only) {
  SampleAttrs attrs;
  TENSORD_ASSIGN_OR_RETURN(attrs.dtype, creation::DTypeAttr(node));
  if (float_only && !IsFloat(attrs.dtype)) {
    return InvalidArgument(node.op, ": dtype must be a float type, got ", DTypeName(attrs.dtype));
  }
  TENSORD_ASSIGN_OR_RETURN(attrs.ndim, ir::GetAttr<int64_t>(node, "ndim"));
  if (attrs.ndim < 0 || attrs.ndim > 32) {
    return InvalidArgument(node.op, ": ndim must be in [0, 32], got ", attrs.ndim);
  }
  return attrs;
}

absl::StatusOr<std::vector<ir::Type>> StateAndSampleTypes(const ir::Apply& node, DType dtype,
                                                          int64_t sample_ndim) {
  const ir::Type& state = node.inputs[0]->type;
  if (state.dtype != DType::kInt32 || state.ndim() != 2) {
    return InvalidArgument(node.op,
                           ": the generator state (input 0) must be an int32 matrix of shape "
                           "(streams, 6), got ",
                           ir::TypeString(state));
  }
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 1, "random op: size (input 1)"));
  ir::Type sample{dtype, std::vector<bool>(sample_ndim, false)};
  return std::vector<ir::Type>{state, sample};
}

}  // namespace tensord::ops::random
