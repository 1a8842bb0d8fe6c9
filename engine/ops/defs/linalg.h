// The contraction ops' (dot, tensordot, batched_dot, batched_tensordot) reading of their
// attributes, shared by type inference and the kernels.
#pragma once

#include <string>
#include <vector>

#include "engine/ops/op_def.h"

namespace tensord::ops {

// Which axes of a and b are summed, and whether axis 0 of both is a batch axis.
struct Contraction {
  bool batched = false;
  std::vector<int64_t> axes_a, axes_b;  // normalized, paired in order
};

std::vector<int> FreeAxes(int ndim, bool batched, const std::vector<int64_t>& summed);

// The contraction a node describes, checked against its input types.
absl::StatusOr<Contraction> GetContraction(const ir::Apply& node);

// What every kernel of `op` checks of its operands' shapes before it computes, in NumPy's words:
// each pair of summed axes of one size, then the batch sizes alike.
absl::Status CheckContractionShapes(const std::string& op, const Contraction& c,
                                    const runtime::Shape& a, const runtime::Shape& b);

}  // namespace tensord::ops
