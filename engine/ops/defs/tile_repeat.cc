// tile, repeat and flatten: ops that copy or regroup elements into a new shape.
#include <cstring>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/grads/shape.h"
#include "engine/ops/node_builder.h"

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

absl::StatusOr<Shape> TiledShape(const Shape& x, const std::vector<int64_t>& reps, Shape* grouped) {
  const int nd = static_cast<int>(reps.size());
  const int lead = nd - static_cast<int>(x.size());
  Shape out;
  if (grouped != nullptr) grouped->clear();
  for (int d = 0; d < nd; ++d) {
    const int64_t size = d < lead ? 1 : x[d - lead];
    int64_t tiled;
    if (__builtin_mul_overflow(size, reps[d], &tiled)) {
      return InvalidArgument("tile: dimension ", d, " of the output overflows int64");
    }
    out.push_back(tiled);
    if (grouped != nullptr) grouped->insert(grouped->end(), {reps[d], size});
  }
  return out;
}

absl::StatusOr<int64_t> RepeatedLength(const std::vector<int64_t>& counts, int counts_ndim,
                                       int64_t n) {
  if (counts_ndim == 1 && static_cast<int64_t>(counts.size()) != n && counts.size() != 1) {
    return InvalidArgument("repeat: ", counts.size(), " repeat counts for an axis of length ", n);
  }
  for (int64_t c : counts) {
    if (c < 0) return InvalidArgument("repeat: repeat counts must be >= 0, got ", c);
  }
  // A single count applies to every element; it is not expanded to n copies, since n may be
  // huge when another dim is 0.
  int64_t total = 0;
  if (counts.size() == 1) {
    if (__builtin_mul_overflow(counts[0], n, &total)) {
      return InvalidArgument("repeat: the output length overflows int64");
    }
    return total;
  }
  for (int64_t c : counts) {
    if (__builtin_add_overflow(total, c, &total)) {
      return InvalidArgument("repeat: the output length overflows int64");
    }
  }
  return total;
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

namespace {

// x's dims (left-padded with 1s) times the reps.
std::vector<SymbolicShape> TileShape(NodeBuilder& b, const ir::Apply& node,
                                     std::span<const SymbolicShape> in) {
  absl::StatusOr<std::vector<int64_t>> reps = PaddedReps(node);
  if (!reps.ok()) return {};
  const size_t lead = reps->size() - in[0].size();
  SymbolicShape out;
  for (size_t d = 0; d < reps->size(); ++d) {
    ir::Variable* rep = b.Constant(static_cast<double>((*reps)[d]), DType::kInt64);
    out.push_back(d < lead ? rep : b.Mul(in[0][d - lead], rep));
  }
  return {out};
}

// The repeated axis (x's size for axis=None) times a scalar repeats, or the sum of a vector of
// them (a vector of one broadcasts, as a scalar).
std::vector<SymbolicShape> RepeatShape(NodeBuilder& b, const ir::Apply& node,
                                       std::span<const SymbolicShape> in) {
  absl::StatusOr<std::optional<int64_t>> axis = RepeatAxis(node);
  if (!axis.ok()) return {};
  ir::Variable* reps = node.inputs[1];
  SymbolicShape out = *axis ? in[0] : SymbolicShape{DimsProduct(b, in[0])};
  const size_t a = axis->value_or(0);
  if (reps->type.ndim() == 0) {
    out[a] = b.Mul(out[a], b.Cast(reps, DType::kInt64));
  } else {
    ir::Variable* total = b.Cast(b.Apply("sum", {reps}), DType::kInt64);
    ir::Variable* broadcast = b.Apply("eq", {in[1][0], b.Constant(1, DType::kInt64)});
    out[a] = b.Switch(broadcast, b.Mul(out[a], total), total);
  }
  return {out};
}

// The first ndim-1 dims, then the product of the rest.
std::vector<SymbolicShape> FlattenShape(NodeBuilder& b, const ir::Apply& node,
                                        std::span<const SymbolicShape> in) {
  absl::StatusOr<int64_t> ndim = FlattenNdim(node);
  if (!ndim.ok()) return {};
  SymbolicShape out(in[0].begin(), in[0].begin() + (*ndim - 1));
  out.push_back(DimsProduct(b, std::span(in[0]).subspan(*ndim - 1)));
  return {out};
}

}  // namespace

void RegisterTileRepeatOps(Registry& r) {
  OpDef tile =
      MakeOpDef("tile", 1, 1, "tile(x; reps) (numpy.tile with constant reps)", InferTile, TileGrad);
  tile.infer_shape = TileShape;
  tile.attrs = {"reps"};
  r.Add(std::move(tile));
  OpDef repeat =
      MakeOpDef("repeat", 2, 2,
                "repeat(x, repeats; axis=None) (numpy.repeat; repeats is a scalar or a vector)",
                InferRepeat, RepeatGrad);
  repeat.infer_shape = RepeatShape;
  repeat.attrs = {"axis"};
  r.Add(std::move(repeat));
  OpDef flatten = MakeOpDef(
      "flatten", 1, 1,
      "flatten(x; ndim=1): keeps the first ndim-1 dims, flattens the rest (numpy.reshape)",
      InferFlatten, ReshapeGrad);
  flatten.infer_shape = FlattenShape;
  flatten.attrs = {"ndim"};
  flatten.theano_render = [](const ir::Apply& node, const std::string&) {
    return absl::StrCat("Flatten{", node.outputs[0]->type.ndim(), "}");
  };
  r.Add(std::move(flatten));
}

}  // namespace tensord::ops::creation
