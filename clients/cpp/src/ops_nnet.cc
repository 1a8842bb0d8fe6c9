#include "tensord/ops_nnet.h"

#include "absl/strings/str_cat.h"
#include "src/op_util.h"

namespace tensord::client {
namespace {

using internal::Fail;

// `values`, or `fill` repeated n times when empty; false (after recording why) when its length
// is not n or a value is below `least`.
bool PerDim(GraphBuilder* g, const char* op, const char* what, std::vector<int64_t>& values, int n,
            int64_t fill, int64_t least) {
  if (values.empty()) values.assign(n, fill);
  if (static_cast<int>(values.size()) != n) {
    Fail(g, op, absl::StrCat(what, " needs ", n, " values, got ", values.size()));
    return false;
  }
  for (int64_t v : values) {
    if (v < least) {
      Fail(g, op, absl::StrCat(what, " values must be >= ", least, ", got ", v));
      return false;
    }
  }
  return true;
}

enum class ConvKind { kForward, kGradInputs, kGradWeights };

// The three conv ops: operands a, b (float, rank nd + 2) and, for the gradients, a spatial
// shape. Output dims 0 and 1 are broadcastable as the server types them: the forward pass's as
// the input's batch and the filters' out channels, the input gradient's batch as the output
// gradient's, the filter gradient's out channels as the output gradient's channels.
Var ConvOp(ConvKind kind, int nd, Var a, Var b, Var shape, const ConvOptions& o) {
  const char* op = kind == ConvKind::kForward      ? "conv"
                   : kind == ConvKind::kGradInputs ? "conv_grad_inputs"
                                                   : "conv_grad_weights";
  std::vector<Var> inputs = {a, b};
  if (shape.valid()) inputs.push_back(shape);
  GraphBuilder* g = internal::Check(op, inputs);
  if (!g) return Var();
  if (nd < 1 || nd > 3) {
    return Fail(g, op,
                absl::StrCat("needs operands of rank 3 to 5 (batch, channels and 1 to 3 "
                             "spatial dims), got ",
                             a.ndim()));
  }
  if (a.ndim() != nd + 2 || b.ndim() != nd + 2) {
    return Fail(
        g, op,
        absl::StrCat("needs operands of rank ", nd + 2, ", got ", a.ndim(), " and ", b.ndim()));
  }
  const DType dtype = ResultType(a.dtype(), b.dtype());
  if (dtype != kFloat32 && dtype != kFloat64) {
    return Fail(g, op, "needs float32 or float64 operands");
  }
  std::vector<int64_t> pad = o.pad, subsample = o.subsample, dilation = o.filter_dilation;
  const std::string border = o.pad.empty() ? o.border_mode : "pad";
  if (border != "valid" && border != "full" && border != "half" && border != "pad") {
    return Fail(g, op,
                absl::StrCat("border_mode must be valid, full or half, got '", o.border_mode, "'"));
  }
  if (!PerDim(g, op, "pad", pad, nd, 0, 0) || !PerDim(g, op, "subsample", subsample, nd, 1, 1) ||
      !PerDim(g, op, "filter_dilation", dilation, nd, 1, 1)) {
    return Var();
  }
  if (o.num_groups < 1) return Fail(g, op, "num_groups must be >= 1");
  AttrMap attrs = {{"border_mode", StringAttr(border)},   {"pad", IntsAttr(pad)},
                   {"subsample", IntsAttr(subsample)},    {"filter_dilation", IntsAttr(dilation)},
                   {"num_groups", IntAttr(o.num_groups)}, {"filter_flip", BoolAttr(o.filter_flip)}};
  std::vector<bool> broadcastable(nd + 2, false);
  switch (kind) {
    case ConvKind::kForward:
      broadcastable[0] = a.broadcastable()[0];
      broadcastable[1] = b.broadcastable()[0];
      break;
    case ConvKind::kGradInputs:
      broadcastable[0] = b.broadcastable()[0];
      break;
    case ConvKind::kGradWeights:
      broadcastable[0] = b.broadcastable()[1];
      break;
  }
  return internal::Single(g, op, inputs, std::move(attrs), dtype, broadcastable);
}

}  // namespace

Var Conv2d(Var input, Var filters, const ConvOptions& options) {
  return ConvOp(ConvKind::kForward, 2, input, filters, Var(), options);
}

Var Conv3d(Var input, Var filters, const ConvOptions& options) {
  return ConvOp(ConvKind::kForward, 3, input, filters, Var(), options);
}

Var ConvGradInputs(Var filters, Var output_grad, Var input_spatial_shape,
                   const ConvOptions& options) {
  return ConvOp(ConvKind::kGradInputs, filters.valid() ? filters.ndim() - 2 : 0, filters,
                output_grad, input_spatial_shape, options);
}

Var ConvGradWeights(Var input, Var output_grad, Var filter_spatial_shape,
                    const ConvOptions& options) {
  return ConvOp(ConvKind::kGradWeights, input.valid() ? input.ndim() - 2 : 0, input, output_grad,
                filter_spatial_shape, options);
}

Var Pool(Var x, const std::vector<int64_t>& ws, const PoolOptions& o) {
  GraphBuilder* g = internal::Check("pool", {x});
  if (!g) return Var();
  const int nd = static_cast<int>(ws.size());
  if (nd < 1 || nd > 3 || x.ndim() < nd) {
    return Fail(g, "pool",
                absl::StrCat("needs 1 to 3 window sizes and an input of at least as "
                             "many dims, got ",
                             nd, " and rank ", x.ndim()));
  }
  if (x.dtype() != kFloat32 && x.dtype() != kFloat64) {
    return Fail(g, "pool", "needs a float32 or float64 input");
  }
  if (o.mode != "max" && o.mode != "sum" && o.mode != "average_inc_pad" &&
      o.mode != "average_exc_pad") {
    return Fail(g, "pool",
                absl::StrCat("mode must be max, sum, average_inc_pad or "
                             "average_exc_pad, got '",
                             o.mode, "'"));
  }
  std::vector<int64_t> window = ws, stride = o.stride.empty() ? ws : o.stride, pad = o.pad;
  if (!PerDim(g, "pool", "ws", window, nd, 1, 1) ||
      !PerDim(g, "pool", "stride", stride, nd, 1, 1) || !PerDim(g, "pool", "pad", pad, nd, 0, 0)) {
    return Var();
  }
  AttrMap attrs = {{"ws", IntsAttr(window)},
                   {"stride", IntsAttr(stride)},
                   {"pad", IntsAttr(pad)},
                   {"ignore_border", BoolAttr(o.ignore_border)},
                   {"mode", StringAttr(o.mode)}};
  std::vector<bool> broadcastable = x.broadcastable();
  for (int d = x.ndim() - nd; d < x.ndim(); ++d) broadcastable[d] = false;
  return internal::Single(g, "pool", {x}, std::move(attrs), x.dtype(), broadcastable);
}

}  // namespace tensord::client
