#include "engine/ops/defs/reduce_util.h"

#include <algorithm>

#include "engine/ops/defs/type_rules.h"

namespace tensord::ops {

absl::StatusOr<std::vector<int64_t>> ReducedAxes(const ir::Apply& node) {
  int ndim = node.inputs[0]->type.ndim();
  if (!node.attrs.count("axis")) {
    std::vector<int64_t> all(ndim);
    for (int i = 0; i < ndim; ++i) all[i] = i;
    return all;
  }
  TENSORD_ASSIGN_OR_RETURN(auto axes, ir::GetIntsAttr(node, "axis"));
  return NormalizeAxes(node, std::move(axes), ndim);
}

absl::StatusOr<ir::Type> ReducedType(const ir::Apply& node, DType dtype) {
  TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
  const ir::Type& in = node.inputs[0]->type;
  ir::Type out;
  out.dtype = dtype;
  for (int d = 0; d < in.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d))
      out.broadcastable.push_back(in.broadcastable[d]);
  return out;
}

absl::Status CheckReducibleDType(const ir::Apply& node) {
  if (node.inputs[0]->type.dtype == DType::kFloat16) {
    return Unimplemented(node.op, ": float16 is not supported yet");
  }
  return absl::OkStatus();
}

ReduceLayout MakeReduceLayout(const runtime::Shape& in_shape, const std::vector<int64_t>& axes) {
  const int nd = static_cast<int>(in_shape.size());
  std::vector<bool> reduced(nd, false);
  for (int64_t a : axes) reduced[a] = true;
  ReduceLayout l;
  runtime::Shape reduced_shape;
  for (int d = 0; d < nd; ++d) {
    if (reduced[d]) {
      reduced_shape.push_back(in_shape[d]);
      l.reduced_count *= in_shape[d];
    } else {
      l.out_shape.push_back(in_shape[d]);
    }
  }
  const cpu::Strides out_contig = runtime::ContiguousStrides(l.out_shape);
  const cpu::Strides red_contig = runtime::ContiguousStrides(reduced_shape);
  l.out_strides.assign(nd, 0);
  l.reduced_index_strides.assign(nd, 0);
  for (int d = 0, o = 0, r = 0; d < nd; ++d) {
    if (reduced[d]) {
      l.reduced_index_strides[d] = red_contig[r++];
    } else {
      l.out_strides[d] = out_contig[o++];
    }
  }
  return l;
}

absl::Status CheckNonEmptyReduction(const std::string& op, const runtime::Shape& in_shape,
                                    const ReduceLayout& layout) {
  if (layout.reduced_count == 0) {
    return InvalidArgument(op, " of an empty array (shape ", runtime::ShapeString(in_shape),
                           ", reducing zero elements) has no identity");
  }
  return absl::OkStatus();
}

}  // namespace tensord::ops
