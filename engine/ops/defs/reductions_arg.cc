// Arg reductions: argmax, argmin, max_and_argmax (Theano's MaxAndArgmax: both outputs from one
// pass). The index is the flat C-order position within the reduced axes (axis=None: within the
// flattened array, as numpy.argmax); ties and NaNs resolve to the first occurrence, as NumPy.
#include <cmath>
#include <limits>
#include <memory>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"

namespace tensord::ops {
namespace {

OpDef ArgOp(std::string name, bool with_value, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.infer_types = [with_value](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
    TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
    std::vector<ir::Type> types;
    if (with_value) {
      TENSORD_ASSIGN_OR_RETURN(ir::Type value, ReducedType(node, node.inputs[0]->type.dtype));
      types.push_back(value);
    }
    TENSORD_ASSIGN_OR_RETURN(ir::Type index, ReducedType(node, DType::kInt64));
    types.push_back(index);
    return types;
  };
  // The max output of max_and_argmax has a gradient; a bare index does not.
  d.differentiable = with_value;
  d.tags = kTagReduction;
  return d;
}

}  // namespace

void RegisterArgReductions(Registry& r) {
  r.Add(ArgOp("argmax", false,
              "argmax(x; axis=None|ints) -> int64 (numpy.argmax; index within the flattened "
              "reduced axes; first of ties, first NaN)"));
  r.Add(ArgOp("argmin", false,
              "argmin(x; axis=None|ints) -> int64 (numpy.argmin; first of ties, first NaN)"));
  r.Add(ArgOp("max_and_argmax", true,
              "max_and_argmax(x; axis=None|ints) -> (max, int64 argmax) (numpy.max, "
              "numpy.argmax)"));
}

}  // namespace tensord::ops
