#include "engine/backends/cuda/provider/reduce_axes.h"

#include <algorithm>

#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/provider.h"
#include "engine/common/status.h"
#include "engine/ops/defs/reduce_util.h"

namespace tensord::cuda {
namespace {

// Rows at least this long, read contiguously, are shared by a block's threads; shorter ones
// (a softmax's 10 classes) are walked by one thread each.
constexpr int64_t kShortestBlockRow = 64;
// With fewer outputs than this, a thread each would leave the device idle: blocks share them.
constexpr int64_t kFewestThreadOutputs = 256;

}  // namespace

std::optional<DeviceReduction> AsDeviceReduction(const ir::Apply& node) {
  DeviceReduction r;
  r.to_like = node.op == "sum_to_like";
  if (!r.to_like && node.op != "sum" && node.op != "mean" && node.op != "max" && node.op != "min" &&
      node.op != "prod" && node.op != "all" && node.op != "any") {
    return std::nullopt;
  }
  if (node.inputs.empty() || node.outputs.size() != 1 ||
      node.inputs[0]->type.ndim() > kMaxCompositeRank) {  // the dims a kernel walks
    return std::nullopt;
  }
  const DType dtype = node.outputs[0]->type.dtype, in = node.inputs[0]->type.dtype;
  if (CudaCType(dtype).empty() || CudaCType(in).empty()) return std::nullopt;
  if (GpuConvertsOtherwise(in, dtype)) return std::nullopt;  // a float into an integer fold
  if (in != dtype) {
    if (r.to_like) return std::nullopt;  // its unbroadcast case is a view of the input
    r.types.inputs = {in};
  }
  if (!r.to_like) {
    absl::StatusOr<std::vector<int64_t>> axes = ops::ReducedAxes(node);
    if (!axes.ok()) return std::nullopt;
    r.axes = *std::move(axes);
  }
  r.program = BareProgram(dtype);
  r.program.reduce = r.to_like ? "sum" : node.op;
  if (!ComputesIn(r.program)) return std::nullopt;  // the mean of an integer result, say
  return r;
}

absl::StatusOr<std::vector<bool>> ReducedDims(const DeviceReduction& reduction,
                                              const runtime::Shape& value,
                                              const runtime::Shape* model) {
  const int ndim = static_cast<int>(value.size());
  std::vector<bool> reduced(ndim, false);
  if (!reduction.to_like) {
    for (int64_t a : reduction.axes) {
      if (a < 0 || a >= ndim) return Internal("axis ", a, " of a ", ndim, "-d value");
      reduced[a] = true;
    }
    return reduced;
  }
  const int lead = ndim - static_cast<int>(model->size());
  if (lead < 0) {
    return InvalidArgument("sum_to_like: a gradient of shape ", runtime::ShapeString(value),
                           " has fewer dims than its model's ", runtime::ShapeString(*model));
  }
  for (int d = 0; d < ndim; ++d) {
    if (d < lead) {
      reduced[d] = true;
    } else if ((*model)[d - lead] != value[d]) {
      if ((*model)[d - lead] != 1) {
        return InvalidArgument("sum_to_like: a gradient of shape ", runtime::ShapeString(value),
                               " cannot come from broadcasting shape ",
                               runtime::ShapeString(*model));
      }
      reduced[d] = true;
    }
  }
  return reduced;
}

absl::StatusOr<AxesReduction> PlanAxesReduction(const ops::composite::Program& program,
                                                const runtime::Tensor& value,
                                                const std::vector<bool>& reduced_dims) {
  const int ndim = value.ndim();
  if (static_cast<int>(reduced_dims.size()) != ndim) {
    return Internal("a reduction plan for ", reduced_dims.size(), " dims of a ", ndim, "-d value");
  }
  // The value viewed as [kept dims..., reduced dims...]: output o's elements are then the
  // view's flat indices o * reduced + r, which merging dims preserves.
  runtime::Shape shape;
  runtime::Strides strides;
  AxesReduction plan;
  plan.outputs = 1;
  plan.reduced = 1;
  for (bool take_reduced : {false, true}) {
    for (int d = 0; d < ndim; ++d) {
      if (reduced_dims[d] != take_reduced) continue;
      shape.push_back(value.shape()[d]);
      strides.push_back(value.strides()[d]);
      (take_reduced ? plan.reduced : plan.outputs) *= value.shape()[d];
    }
  }
  const runtime::Tensor view = value.StridedView(shape, strides, 0);
  const runtime::Tensor* inputs[] = {&view};
  TENSORD_ASSIGN_OR_RETURN(plan.params, CompositeParams(program, inputs, shape, &plan.rank));
  // Whether neighbouring elements of a row are neighbours in memory: its innermost dim that
  // is longer than 1 has a unit stride.
  bool rows_contiguous = true;
  for (int d = ndim - 1; d >= 0; --d) {
    if (!reduced_dims[d] || value.shape()[d] == 1) continue;
    rows_contiguous = value.strides()[d] == 1;
    break;
  }
  plan.by_block = plan.reduced > 1 && ((rows_contiguous && plan.reduced >= kShortestBlockRow) ||
                                       plan.outputs < kFewestThreadOutputs);
  plan.threads = kReduceThreads;
  plan.blocks = plan.by_block ? plan.outputs : (plan.outputs + kReduceThreads - 1) / kReduceThreads;
  plan.blocks = std::min(plan.blocks, kMostBlocks);
  return plan;
}

}  // namespace tensord::cuda
