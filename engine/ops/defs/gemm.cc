// Theano's Gemm: gemm(z, alpha, x, y, beta) = beta * z + alpha * dot(x, y) for matrices x and y,
// in one BLAS call (OpenBLAS sgemm/dgemm with alpha and beta), so the sum never takes a pass of
// its own. The gemm pass (engine/passes/gemm.cc) makes it from `z + dot(x, y)`,
// `b * z - a * dot(x, y)` and the like. z broadcasts NumPy-style (a bias row, a 0-d value);
// when it is larger than the product (m or n of 1 broadcast), the kernel adds it separately.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Shape;
using runtime::Strides;
using runtime::Tensor;

absl::StatusOr<std::vector<ir::Type>> InferGemm(const ir::Apply& node) {
  const ir::Type& z = node.inputs[0]->type;
  const ir::Type& x = node.inputs[2]->type;
  const ir::Type& y = node.inputs[3]->type;
  if (x.ndim() != 2 || y.ndim() != 2) {
    return InvalidArgument("x and y must be matrices, got ", ir::TypeString(x), " and ",
                           ir::TypeString(y));
  }
  if (node.inputs[1]->type.ndim() != 0 || node.inputs[4]->type.ndim() != 0) {
    return InvalidArgument("alpha and beta must be 0-d");
  }
  if (z.ndim() > 2) return InvalidArgument("z must have at most 2 dimensions, got ", z.ndim());
  const DType t = Promote(x.dtype, y.dtype);
  if (t != DType::kFloat32 && t != DType::kFloat64) {
    return InvalidArgument("needs float32 or float64 matrices, got ", DTypeName(t));
  }
  if (Promote(t, z.dtype) != t) {
    return InvalidArgument("z of dtype ", DTypeName(z.dtype), " would make the result ",
                           DTypeName(Promote(t, z.dtype)), ", not ", DTypeName(t));
  }
  ir::Type out{t, {x.broadcastable[0], y.broadcastable[1]}};
  for (int d = 0; d < z.ndim(); ++d)
    if (!z.broadcastable[d]) out.broadcastable[2 - z.ndim() + d] = false;
  return std::vector<ir::Type>{out};
}

}  // namespace

void RegisterGemm(Registry& r) {
  OpDef d = MakeOpDef("gemm", 5, 5,
                      "gemm(z, alpha, x, y, beta) -> beta * z + alpha * dot(x, y) for matrices x, "
                      "y and 0-d alpha, beta; z broadcasts (Theano's Gemm, BLAS ?gemm)",
                      // The gemm pass runs at compile time, after Differentiate built the
                      // gradient graph, so no gradient flows through a gemm the server made;
                      // one a client sends stops gradients with a clear error.
                      InferGemm, kNotDifferentiable);
  d.input_dtypes = AllInputsAsOutput;
  // z broadcast with dot(x, y)'s (rows, cols), as the kernel computes beta * z + alpha * dot.
  d.infer_shape = [](NodeBuilder& b, const ir::Apply& node, std::span<const SymbolicShape> in) {
    const ir::Type& x = node.inputs[2]->type;
    const ir::Type& y = node.inputs[3]->type;
    const SymbolicShape shapes[] = {in[0], {in[2][0], in[3][1]}};
    const std::vector<bool> broadcastable[] = {node.inputs[0]->type.broadcastable,
                                               {x.broadcastable[0], y.broadcastable[1]}};
    return std::vector<SymbolicShape>{BroadcastDims(b, shapes, broadcastable, 2)};
  };
  r.Add(std::move(d));
}

}  // namespace tensord::ops
