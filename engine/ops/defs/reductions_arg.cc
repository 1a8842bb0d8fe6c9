// Arg reductions: argmax, argmin, max_and_argmax (Theano's MaxAndArgmax: both outputs from one
// pass). The index is the flat C-order position within the reduced axes (axis=None: within the
// flattened array, as numpy.argmax); ties and NaNs resolve to the first occurrence, as NumPy.
#include <cmath>
#include <limits>
#include <memory>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/reductions.h"

namespace tensord::ops {
namespace {

OpDef ArgOp(std::string name, bool with_value, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.reduction = with_value ? ReductionTyping{{ReducedDType::kSame, ReducedDType::kIndex}}
                           : ReductionTyping{{ReducedDType::kIndex}};
  d.infer_types = [typing = *d.reduction](const ir::Apply& node) {
    return InferReduction(node, typing);
  };
  // The max output of max_and_argmax has a gradient; a bare index does not.
  d.differentiable = with_value;
  if (with_value) d.grad = MaxGrad;
  d.infer_shape = ReducedShape;
  d.attrs = {"axis"};
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
