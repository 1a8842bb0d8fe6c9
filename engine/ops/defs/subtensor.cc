// Basic indexing: subtensor (x[i], x[a:b:c], a zero-copy strided view) and inc_subtensor
// (a new tensor with that view incremented or, with set_instead_of_inc, overwritten).
#include "engine/ops/defs/subtensor.h"

#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/subtensor.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Tensor;
using subtensor::Entry;
using subtensor::Kind;

absl::StatusOr<std::vector<ir::Type>> InferSubtensor(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 1, false));
  return std::vector<ir::Type>{subtensor::BasicIndexType(node.inputs[0]->type, entries)};
}

// The value may have lower rank than the indexed subtensor (it broadcasts), never higher.
absl::Status CheckValueRank(const ir::Apply& node, const ir::Type& indexed) {
  const ir::Type& y = node.inputs[1]->type;
  if (y.ndim() > indexed.ndim()) {
    return InvalidArgument(node.op, ": cannot assign a value of rank ", y.ndim(), " (",
                           ir::TypeString(y), ") to a subtensor of rank ", indexed.ndim());
  }
  if (y.dtype == DType::kFloat16 || indexed.dtype == DType::kFloat16) {
    return Unimplemented("float16 is not supported yet");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ir::Type>> InferIncSubtensor(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 2, false));
  TENSORD_RETURN_IF_ERROR(
      CheckValueRank(node, subtensor::BasicIndexType(node.inputs[0]->type, entries)));
  return std::vector<ir::Type>{node.inputs[0]->type};
}

}  // namespace

void RegisterSubtensor(Registry& r) {
  OpDef d;
  d.name = "subtensor";
  d.min_inputs = 1;
  d.max_inputs = -1;
  d.doc = "subtensor(x, *scalars; idx_list): x[i, a:b:c, ...] as a view (numpy basic indexing)";
  d.infer_types = InferSubtensor;
  d.grad = IndexReadGrad("inc_subtensor");
  d.attrs = {"idx_list"};
  r.Add(std::move(d));

  OpDef inc;
  inc.name = "inc_subtensor";
  inc.min_inputs = 2;
  inc.max_inputs = -1;
  inc.doc =
      "inc_subtensor(x, y, *scalars; idx_list, set_instead_of_inc): a copy of x with "
      "x[idx] += y, or = y (numpy: z = x.copy(); z[idx] += y)";
  inc.infer_types = InferIncSubtensor;
  inc.input_dtypes = subtensor::ValueAsX;
  inc.grad = IndexIncGrad("subtensor");
  inc.infer_shape = ShapeOfInput(0);
  inc.attrs = {"idx_list", "set_instead_of_inc"};
  r.Add(std::move(inc));
}

}  // namespace tensord::ops
