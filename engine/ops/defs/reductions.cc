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

enum class OutDType { kSame, kSum, kBool };

absl::StatusOr<std::vector<ir::Type>> InferFold(const ir::Apply& node, OutDType rule) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  DType dtype = node.inputs[0]->type.dtype;
  if (rule == OutDType::kBool) dtype = DType::kBool;
  if (rule == OutDType::kSum) {
    dtype = SumResultType(dtype);
    if (node.attrs.count("dtype")) {
      TENSORD_ASSIGN_OR_RETURN(dtype, ir::GetAttr<DType>(node, "dtype"));
      if (dtype == DType::kFloat16) return Unimplemented(node.op, ": float16 is not supported yet");
    }
  }
  TENSORD_ASSIGN_OR_RETURN(ir::Type out, ReducedType(node, dtype));
  return std::vector<ir::Type>{out};
}

OpDef Fold(std::string name, OutDType rule, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.infer_types = [rule](const ir::Apply& node) { return InferFold(node, rule); };
  // The kernel folds in the output dtype: sum/prod accumulate small ints in 64 bits and
  // all/any see booleans.
  d.input_dtypes = AllInputsAsOutput;
  d.differentiable = rule != OutDType::kBool;
  d.tags = kTagReduction;
  return d;
}

}  // namespace

void RegisterReductions(Registry& r) {
  r.Add(Fold("sum", OutDType::kSum,
             "sum(x; axis=None|ints, dtype) (numpy.sum; small ints accumulate in 64 bits)"));
  r.Add(Fold("prod", OutDType::kSum,
             "prod(x; axis=None|ints, dtype) (numpy.prod; small ints accumulate in 64 bits)"));
  r.Add(Fold("max", OutDType::kSame,
             "max(x; axis=None|ints) (numpy.max; NaN propagates; empty -> error)"));
  r.Add(Fold("min", OutDType::kSame,
             "min(x; axis=None|ints) (numpy.min; NaN propagates; empty -> error)"));
  r.Add(Fold("all", OutDType::kBool, "all(x; axis=None|ints) -> bool (numpy.all)"));
  r.Add(Fold("any", OutDType::kBool, "any(x; axis=None|ints) -> bool (numpy.any)"));
  RegisterReductionStats(r);
  RegisterArgReductions(r);
  RegisterScans(r);
}

}  // namespace tensord::ops
