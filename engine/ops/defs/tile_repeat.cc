// tile, repeat and flatten: ops that copy or regroup elements into a new shape.
#include <cstring>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::ops::creation {
namespace {

using runtime::Shape;
using runtime::Tensor;

// ---- tile(x; reps) ----

absl::StatusOr<std::vector<ir::Type>> InferTile(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto reps, PaddedReps(node));
  const ir::Type& in = node.inputs[0]->type;
  const int nd = static_cast<int>(reps.size());
  const int lead = nd - in.ndim();
  ir::Type out{in.dtype, std::vector<bool>(nd)};
  // A dim stays broadcastable only when it was (or is new) and is repeated once.
  for (int d = 0; d < nd; ++d) {
    out.broadcastable[d] = reps[d] == 1 && (d < lead || in.broadcastable[d - lead]);
  }
  return std::vector<ir::Type>{out};
}

// ---- repeat(x, repeats; axis) ----

absl::StatusOr<std::vector<ir::Type>> InferRepeat(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto axis, RepeatAxis(node));
  const ir::Type& x = node.inputs[0]->type;
  const ir::Type& reps = node.inputs[1]->type;
  if (!IsInteger(reps.dtype) || reps.ndim() > 1) {
    return InvalidArgument("repeat: repeats must be an integer scalar or vector, got ",
                           ir::TypeString(reps));
  }
  if (!axis.has_value()) return std::vector<ir::Type>{ir::Type{x.dtype, {false}}};
  // As Theano's RepeatOp: only a constant count of 1 keeps the axis broadcastable.
  ir::Type out = x;
  if (ConstantInt(node.inputs[1]) != std::optional<int64_t>(1)) out.broadcastable[*axis] = false;
  return std::vector<ir::Type>{out};
}

// ---- flatten(x; ndim) ----

absl::StatusOr<std::vector<ir::Type>> InferFlatten(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t ndim, FlattenNdim(node));
  const ir::Type& x = node.inputs[0]->type;
  ir::Type out{x.dtype, {x.broadcastable.begin(), x.broadcastable.begin() + (ndim - 1)}};
  bool last = true;
  for (int d = static_cast<int>(ndim) - 1; d < x.ndim(); ++d) last = last && x.broadcastable[d];
  out.broadcastable.push_back(last);
  return std::vector<ir::Type>{out};
}

}  // namespace

// Like numpy.tile, x and reps are both left-padded with 1s to the longer of the two.
absl::StatusOr<std::vector<int64_t>> PaddedReps(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto reps, ir::GetIntsAttr(node, "reps"));
  for (int64_t r : reps) {
    if (r < 0) return InvalidArgument("tile: reps must be >= 0, got ", r);
  }
  const int ndim = node.inputs[0]->type.ndim();
  if (static_cast<int>(reps.size()) < ndim) reps.insert(reps.begin(), ndim - reps.size(), 1);
  return reps;
}

// The repeated axis, or nullopt for axis=None (x is flattened first, as numpy.repeat does).
absl::StatusOr<std::optional<int64_t>> RepeatAxis(const ir::Apply& node) {
  if (!node.attrs.count("axis")) return std::optional<int64_t>();
  TENSORD_ASSIGN_OR_RETURN(int64_t axis, ir::GetAttr<int64_t>(node, "axis"));
  TENSORD_ASSIGN_OR_RETURN(auto axes, NormalizeAxes(node, {axis}, node.inputs[0]->type.ndim()));
  return std::optional<int64_t>(axes[0]);
}

absl::StatusOr<int64_t> FlattenNdim(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t ndim, ir::GetAttr<int64_t>(node, "ndim"));
  const int in = node.inputs[0]->type.ndim();
  if (ndim < 1 || (ndim > 1 && ndim > in)) {
    return InvalidArgument("flatten: ndim ", ndim, " is out of range [1, ", in + 1,
                           ") for an input of rank ", in);
  }
  return ndim;
}

void RegisterTileRepeatOps(Registry& r) {
  r.Add(MakeOpDef("tile", 1, 1, "tile(x; reps) (numpy.tile with constant reps)", InferTile, true));
  r.Add(MakeOpDef("repeat", 2, 2,
                  "repeat(x, repeats; axis=None) (numpy.repeat; repeats is a scalar or a vector)",
                  InferRepeat, true));
  r.Add(MakeOpDef(
      "flatten", 1, 1,
      "flatten(x; ndim=1): keeps the first ndim-1 dims, flattens the rest (numpy.reshape)",
      InferFlatten, true));
}

}  // namespace tensord::ops::creation
