// Folding reductions over an axis list: sum, prod, max, min, all, any. The statistics (mean,
// var, std), the arg reductions and the scans live in reductions_stats.cc, reductions_arg.cc and
// scans.cc; RegisterReductions registers all of them.
#include "engine/ops/grads/reductions.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_join.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

// sum/prod accumulate (small ints in 64 bits), max/min keep the dtype, all/any give bool.
OpDef Fold(std::string name, ReducedDType rule, std::string doc, GradFn grad) {
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
  d.differentiable = static_cast<bool>(grad);
  d.grad = std::move(grad);
  d.infer_shape = ReducedShape;
  // Accumulating folds take the accumulator's dtype too.
  d.attrs = rule == ReducedDType::kAccumulate ? std::vector<std::string>{"axis", "dtype"}
                                              : std::vector<std::string>{"axis"};
  d.tags = kTagReduction;
  return d;
}

// "axis=[0, 2]" for a node that names its axes, "" for one that reduces all of them.
std::string AxesText(const ir::Apply& node) {
  auto axis = ir::GetIntsAttr(node, "axis");
  return axis.ok() ? absl::StrCat("axis=[", absl::StrJoin(*axis, ", "), "]") : "";
}

// Sum{axis=[0], acc_dtype=float64}, as Theano prints its accumulator.
std::string SumTheanoName(const ir::Apply& node, const std::string&) {
  const DType in = node.inputs[0]->type.dtype;
  const char* acc = IsFloat(in) ? "float64" : IsUnsignedInt(in) ? "uint64" : "int64";
  const std::string axes = AxesText(node);
  return absl::StrCat("Sum{", axes, axes.empty() ? "" : ", ", "acc_dtype=", acc, "}");
}

// Max{axis=[1]}, or Max without axes.
TheanoRenderFn ExtremumTheanoName(std::string name) {
  return [name](const ir::Apply& node, const std::string&) {
    const std::string axes = AxesText(node);
    return axes.empty() ? name : absl::StrCat(name, "{", axes, "}");
  };
}

}  // namespace

void RegisterReductions(Registry& r) {
  OpDef sum =
      Fold("sum", ReducedDType::kAccumulate,
           "sum(x; axis=None|ints, dtype) (numpy.sum; small ints accumulate in 64 bits)", SumGrad);
  sum.theano_render = SumTheanoName;
  r.Add(std::move(sum));
  r.Add(Fold("prod", ReducedDType::kAccumulate,
             "prod(x; axis=None|ints, dtype) (numpy.prod; small ints accumulate in 64 bits)",
             ProdGrad));
  OpDef max = Fold("max", ReducedDType::kSame,
                   "max(x; axis=None|ints) (numpy.max; NaN propagates; empty -> error)", MaxGrad);
  max.theano_render = ExtremumTheanoName("Max");
  r.Add(std::move(max));
  OpDef min = Fold("min", ReducedDType::kSame,
                   "min(x; axis=None|ints) (numpy.min; NaN propagates; empty -> error)", MaxGrad);
  min.theano_render = ExtremumTheanoName("Min");
  r.Add(std::move(min));
  r.Add(Fold("all", ReducedDType::kBool, "all(x; axis=None|ints) -> bool (numpy.all)",
             kNotDifferentiable));
  r.Add(Fold("any", ReducedDType::kBool, "any(x; axis=None|ints) -> bool (numpy.any)",
             kNotDifferentiable));
  RegisterReductionStats(r);
  RegisterArgReductions(r);
  RegisterScans(r);
}

}  // namespace tensord::ops
