// Cumulative scans: Theano's CumOp, one op with attr mode = "add" (cumsum) or "mul" (cumprod),
// and attr axis (absent: over the flattened input, giving a vector, as numpy.cumsum).
// Small ints accumulate in 64 bits, as NumPy (Theano's CumOp kept the input dtype).
#include <string>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/grads/reductions.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

absl::StatusOr<std::vector<ir::Type>> InferScan(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  TENSORD_ASSIGN_OR_RETURN(ScanAttrs a, ParseScanAttrs(node));
  const ir::Type& in = node.inputs[0]->type;
  ir::Type out{SumResultType(in.dtype), in.broadcastable};
  if (!a.axis) out.broadcastable = {false};
  return std::vector<ir::Type>{out};
}

}  // namespace

absl::StatusOr<ScanAttrs> ParseScanAttrs(const ir::Apply& node) {
  ScanAttrs a;
  std::string mode = "add";
  if (node.attrs.count("mode")) {
    TENSORD_ASSIGN_OR_RETURN(mode, ir::GetAttr<std::string>(node, "mode"));
  }
  if (mode != "add" && mode != "mul") {
    return InvalidArgument("cumop: mode must be 'add' or 'mul', got '", mode, "'");
  }
  a.multiply = mode == "mul";
  if (node.attrs.count("axis")) {
    TENSORD_ASSIGN_OR_RETURN(auto axes, ir::GetIntsAttr(node, "axis"));
    if (axes.size() != 1) return InvalidArgument("cumop: axis must be a single int or absent");
    TENSORD_ASSIGN_OR_RETURN(axes, NormalizeAxes(node, axes, node.inputs[0]->type.ndim()));
    a.axis = axes[0];
  }
  return a;
}

CumopLayout MakeCumopLayout(const ScanAttrs& attrs, const runtime::Shape& x) {
  CumopLayout l;
  l.shape = x;
  l.len = runtime::NumElements(x);
  if (attrs.axis) {
    const int64_t k = *attrs.axis;
    l.len = x[k];
    for (int64_t d = 0; d < k; ++d) l.outer *= x[d];
    for (int64_t d = k + 1; d < static_cast<int64_t>(x.size()); ++d) l.inner *= x[d];
  } else {
    l.shape = {l.len};
  }
  return l;
}

void RegisterScans(Registry& r) {
  OpDef d;
  d.name = "cumop";
  d.doc =
      "cumop(x; axis=None|int, mode='add'|'mul') (Theano's CumOp: numpy.cumsum / numpy.cumprod; "
      "axis=None scans the flattened input; small ints accumulate in 64 bits)";
  d.infer_types = InferScan;
  d.input_dtypes = AllInputsAsOutput;  // the scan runs in the output dtype (int8 -> int64)
  d.grad = CumopGrad;
  d.attrs = {"axis", "mode"};
  // The input's shape, or its size for axis=None (the flattened scan).
  d.infer_shape = [](NodeBuilder& b, const ir::Apply& node, std::span<const SymbolicShape> in) {
    absl::StatusOr<ScanAttrs> a = ParseScanAttrs(node);
    if (!a.ok()) return std::vector<SymbolicShape>{};
    return std::vector<SymbolicShape>{a->axis ? in[0] : SymbolicShape{DimsProduct(b, in[0])}};
  };
  r.Add(std::move(d));
}

}  // namespace tensord::ops
