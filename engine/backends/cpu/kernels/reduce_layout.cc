#include "engine/backends/cpu/kernels/reduce_layout.h"

namespace tensord::cpu {

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
  const Strides out_contig = runtime::ContiguousStrides(l.out_shape);
  const Strides red_contig = runtime::ContiguousStrides(reduced_shape);
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

int SplitDim(const runtime::Shape& shape, const ReduceLayout& l) {
  for (size_t d = 0; d < shape.size(); ++d) {
    if (l.out_strides[d] != 0 && shape[d] >= 2) return static_cast<int>(d);
  }
  return -1;
}

absl::Status CheckNonEmptyReduction(const std::string& op, const runtime::Shape& in_shape,
                                    const ReduceLayout& layout) {
  if (layout.reduced_count == 0) {
    return InvalidArgument(op, " of an empty array (shape ", runtime::ShapeString(in_shape),
                           ", reducing zero elements) has no identity");
  }
  return absl::OkStatus();
}

}  // namespace tensord::cpu
