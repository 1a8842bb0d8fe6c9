// Folding reductions over an axis list: sum, prod, max, min, all, any. The statistics (mean,
// var, std), the arg reductions and the scans live in reductions_stats.cc, reductions_arg.cc and
// scans.cc; RegisterReductions registers all of them.
#include <cmath>
#include <limits>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

// sum/prod accumulate (small ints in 64 bits), max/min keep the dtype, all/any give bool.
OpDef Fold(std::string name, ReducedDType rule, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.reduction = ReductionTyping{{rule}};
  d.infer_types = [typing = *d.reduction](const ir::Apply& node) {
    return InferReduction(node, typing);
  };
  // The kernel folds in the output dtype: sum/prod accumulate small ints in 64 bits and
  // all/any see booleans.
  d.input_dtypes = AllInputsAsOutput;
  d.differentiable = rule != ReducedDType::kBool;
  d.tags = kTagReduction;
  return d;
}

}  // namespace

void RegisterReductions(Registry& r) {
  r.Add(Fold("sum", ReducedDType::kAccumulate,
             "sum(x; axis=None|ints, dtype) (numpy.sum; small ints accumulate in 64 bits)"));
  r.Add(Fold("prod", ReducedDType::kAccumulate,
             "prod(x; axis=None|ints, dtype) (numpy.prod; small ints accumulate in 64 bits)"));
  r.Add(Fold("max", ReducedDType::kSame,
             "max(x; axis=None|ints) (numpy.max; NaN propagates; empty -> error)"));
  r.Add(Fold("min", ReducedDType::kSame,
             "min(x; axis=None|ints) (numpy.min; NaN propagates; empty -> error)"));
  r.Add(Fold("all", ReducedDType::kBool, "all(x; axis=None|ints) -> bool (numpy.all)"));
  r.Add(Fold("any", ReducedDType::kBool, "any(x; axis=None|ints) -> bool (numpy.any)"));
  RegisterReductionStats(r);
  RegisterArgReductions(r);
  RegisterScans(r);
}

}  // namespace tensord::ops
