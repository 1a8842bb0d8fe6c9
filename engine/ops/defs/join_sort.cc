// join (Theano's Join, numpy.concatenate) and sort / argsort along one axis.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/grads/reductions.h"
#include "engine/ops/grads/shape.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops::creation {
namespace {

using runtime::Shape;
using runtime::Tensor;

// ---- join(*tensors; axis) ----

absl::StatusOr<std::vector<ir::Type>> InferJoin(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t axis, Axis(node));
  const int ndim = node.inputs[0]->type.ndim();
  ir::Type out{node.inputs[0]->type.dtype, node.inputs[0]->type.broadcastable};
  if (node.inputs.size() > 1) {
    // Theano's rule: a non-axis dim is broadcastable if any input's is (the others must then
    // have length 1 there at run time); the joined axis never is.
    out.broadcastable.assign(ndim, false);
    for (size_t k = 0; k < node.inputs.size(); ++k) {
      const ir::Type& t = node.inputs[k]->type;
      if (t.ndim() != ndim) {
        return InvalidArgument("join: input ", k, " has rank ", t.ndim(), " but input 0 has rank ",
                               ndim, "; all inputs must have the same rank");
      }
      out.dtype = Promote(out.dtype, t.dtype);
      for (int d = 0; d < ndim; ++d)
        if (d != axis && t.broadcastable[d]) out.broadcastable[d] = true;
    }
  }
  if (out.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return std::vector<ir::Type>{out};
}

// ---- sort(x; axis) and argsort(x; axis) ----

absl::StatusOr<std::vector<ir::Type>> InferSort(const ir::Apply& node, bool indices) {
  TENSORD_RETURN_IF_ERROR(Axis(node).status());
  const ir::Type& x = node.inputs[0]->type;
  if (x.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return std::vector<ir::Type>{ir::Type{indices ? DType::kInt64 : x.dtype, x.broadcastable}};
}

}  // namespace

// The axis attr normalized against the input rank; rank 0 has no axis to work along.
absl::StatusOr<int64_t> Axis(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t axis, ir::GetAttr<int64_t>(node, "axis"));
  const int ndim = node.inputs[0]->type.ndim();
  if (ndim == 0) {
    return InvalidArgument(node.op, " needs inputs of rank >= 1 (for scalars use stack)");
  }
  TENSORD_ASSIGN_OR_RETURN(auto axes, NormalizeAxes(node, {axis}, ndim));
  return axes[0];
}

absl::StatusOr<runtime::Shape> JoinedShape(std::span<const runtime::Tensor* const> in,
                                           int64_t axis) {
  runtime::Shape shape = in[0]->shape();
  shape[axis] = 0;
  for (size_t k = 0; k < in.size(); ++k) {
    const runtime::Shape& s = in[k]->shape();
    for (size_t d = 0; d < s.size(); ++d) {
      if (static_cast<int64_t>(d) != axis && s[d] != in[0]->shape()[d]) {
        return InvalidArgument("join: input ", k, " has shape ", runtime::ShapeString(s),
                               " but input 0 has shape ", runtime::ShapeString(in[0]->shape()),
                               ": dimension ", d, " differs (", s[d], " vs ", in[0]->shape()[d],
                               "); all dimensions but the join axis ", axis, " must match");
      }
    }
    if (__builtin_add_overflow(shape[axis], s[axis], &shape[axis])) {
      return InvalidArgument("join: the joined axis length overflows int64");
    }
  }
  return shape;
}

namespace {

// The joined axis is the sum of the inputs' dims along it; the others are the first input's.
std::vector<SymbolicShape> JoinShape(NodeBuilder& b, const ir::Apply& node,
                                     std::span<const SymbolicShape> in) {
  absl::StatusOr<int64_t> axis = Axis(node);
  if (!axis.ok()) return {};
  const int64_t a = *axis;
  SymbolicShape out = in[0];
  std::vector<ir::Variable*> along;
  for (const SymbolicShape& s : in) along.push_back(s[a]);
  out[a] = along.size() == 1 ? along[0] : b.Apply("add", along);
  return {out};
}

}  // namespace

void RegisterJoinSortOps(Registry& r) {
  OpDef join = MakeOpDef("join", 1, -1, "join(*tensors; axis) (numpy.concatenate; dtypes promote)",
                         InferJoin, JoinGrad);
  join.input_dtypes = AllInputsAsOutput;
  join.theano.name = "Join";
  join.infer_shape = JoinShape;
  join.attrs = {"axis"};
  r.Add(std::move(join));
  OpDef sort = MakeOpDef(
      "sort", 1, 1, "sort(x; axis) (numpy.sort(kind='stable'); NaN last)",
      [](const ir::Apply& node) { return InferSort(node, false); }, SortGrad);
  sort.infer_shape = ShapeOfInput(0);
  sort.attrs = {"axis"};
  r.Add(std::move(sort));
  OpDef argsort = MakeOpDef(
      "argsort", 1, 1, "argsort(x; axis) -> int64 (numpy.argsort(kind='stable'); NaN last)",
      [](const ir::Apply& node) { return InferSort(node, true); }, kNotDifferentiable);
  argsort.infer_shape = ShapeOfInput(0);
  argsort.attrs = {"axis"};
  r.Add(std::move(argsort));
}

}  // namespace tensord::ops::creation
