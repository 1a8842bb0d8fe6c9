// Statistics over an axis list: mean, var, std. They accumulate in float64 whatever the input
// (NumPy's float32 results come from pairwise float32 sums; float64 keeps us within rounding),
// and var is two-pass: the mean first, then the squared deviations from it.
#include <cmath>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/reductions.h"

namespace tensord::ops {
namespace {

// Theano's and NumPy's rule: float32 stays float32, everything else (ints, bool) is float64.
const ReductionTyping kMomentTyping{{ReducedDType::kFloat}};

absl::StatusOr<std::vector<ir::Type>> InferMoment(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  if (node.attrs.count("ddof")) {
    TENSORD_ASSIGN_OR_RETURN(int64_t ddof, ir::GetAttr<int64_t>(node, "ddof"));
    if (ddof < 0) return InvalidArgument(node.op, ": ddof must be >= 0, got ", ddof);
  }
  return InferReduction(node, kMomentTyping);
}

OpDef MomentOp(std::string name, Moment kind, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.reduction = kMomentTyping;
  d.infer_types = InferMoment;
  d.grad = kind == Moment::kMean ? GradFn(MeanGrad) : GradFn(MomentGrad);
  d.infer_shape = ReducedShape;
  d.attrs = {"axis", "ddof", "corrected"};
  d.tags = kTagReduction;
  return d;
}

}  // namespace

void RegisterReductionStats(Registry& r) {
  r.Add(MomentOp("mean", Moment::kMean,
                 "mean(x; axis=None|ints) (numpy.mean; float32 stays float32, others -> float64)"));
  r.Add(MomentOp("var", Moment::kVar,
                 "var(x; axis=None|ints, ddof=0, corrected=false) (numpy.var; two-pass in "
                 "float64; corrected subtracts Theano's (sum of deviations)^2 / n)"));
  r.Add(MomentOp("std", Moment::kStd,
                 "std(x; axis=None|ints, ddof=0, corrected=false) (numpy.std = sqrt(var))"));
}

}  // namespace tensord::ops
