#include "tensord/ops_shape.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/op_util.h"

namespace tensord::client {
namespace {

using internal::Check;
using internal::Fail;
using internal::Single;

bool IsIntScalar(Var v) { return v.ndim() == 0 && IsInteger(v.dtype()); }

Var SortOp(const char* op, Var x, std::optional<int64_t> axis, DType dtype) {
  GraphBuilder* b = Check(op, {x});
  if (!b) return Var();
  if (!axis) {
    x = Flatten(x, 1);
    axis = 0;
  }
  if (x.ndim() == 0) return Fail(b, op, "needs an input of rank >= 1");
  absl::StatusOr<int64_t> a = internal::NormalizeAxis(op, *axis, x.ndim());
  if (!a.ok()) return b->Fail(a.status());
  return Single(b, op, {x}, {{"axis", IntAttr(*a)}}, dtype, x.broadcastable());
}

}  // namespace

Var Shape(Var x) {
  GraphBuilder* b = Check("shape", {x});
  if (!b) return Var();
  return Single(b, "shape", {x}, {}, kInt64, {false});
}

Var Transfer(Var x, std::string target) {
  GraphBuilder* b = Check("transfer", {x});
  if (!b) return Var();
  return Single(b, "transfer", {x}, {{"target", StringAttr(std::move(target))}}, x.dtype(),
                x.broadcastable());
}

Var ShapeI(Var x, int64_t i) {
  GraphBuilder* b = Check("shape_i", {x});
  if (!b) return Var();
  if (i < 0 || i >= x.ndim()) {
    return Fail(b, "shape_i", absl::StrCat("dimension ", i, " of a tensor of rank ", x.ndim()));
  }
  return Single(b, "shape_i", {x}, {{"i", IntAttr(i)}}, kInt64, {});
}

Var MakeVector(GraphBuilder& g, const std::vector<Var>& scalars, DType dtype) {
  if (absl::Status s = g.CheckOwned("make_vector", scalars); !s.ok()) return g.Fail(s);
  if (DTypeSize(dtype) == 0) return Fail(&g, "make_vector", "invalid dtype");
  for (size_t k = 0; k < scalars.size(); ++k) {
    if (scalars[k].ndim() != 0) {
      return Fail(&g, "make_vector", absl::StrCat("input ", k, " must be a scalar"));
    }
    if (ResultType(dtype, scalars[k].dtype()) != dtype) {
      return Fail(&g, "make_vector",
                  absl::StrCat("input ", k, " of dtype ", DTypeName(scalars[k].dtype()),
                               " cannot be upcast to ", DTypeName(dtype)));
    }
  }
  return Single(&g, "make_vector", scalars, {{"dtype", DTypeAttr(dtype)}}, dtype, {false});
}

Var MakeVector(const std::vector<Var>& scalars, DType dtype) {
  GraphBuilder* b = internal::BuilderOf(scalars);
  return b ? MakeVector(*b, scalars, dtype) : Var();
}

Var Arange(Var start, Var stop, Var step, DType dtype) {
  GraphBuilder* b = Check("arange", {start, stop, step});
  if (!b) return Var();
  for (Var v : {start, stop, step}) {
    if (v.ndim() != 0) return Fail(b, "arange", "start, stop and step must be scalars");
  }
  if (dtype == ::tensord::v1::DT_INVALID) {
    dtype = internal::Promote({start.dtype(), stop.dtype(), step.dtype()});
    if (IsSignedInt(dtype) || dtype == kBool) dtype = kInt64;
    if (IsUnsignedInt(dtype)) dtype = kUInt64;
  }
  if (dtype == kBool || DTypeSize(dtype) == 0) return Fail(b, "arange", "dtype must be numeric");
  return Single(b, "arange", {start, stop, step}, {{"dtype", DTypeAttr(dtype)}}, dtype, {false});
}

Var Arange(GraphBuilder& g, int64_t start, int64_t stop, int64_t step, DType dtype) {
  return Arange(g.Literal(start), g.Literal(stop), g.Literal(step), dtype);
}

Var Eye(Var n, Var m, Var k, DType dtype) {
  GraphBuilder* b = Check("eye", {n, m, k});
  if (!b) return Var();
  for (Var v : {n, m, k}) {
    if (!IsIntScalar(v)) return Fail(b, "eye", "n, m and k must be integer scalars");
  }
  if (dtype == ::tensord::v1::DT_INVALID) dtype = b->float_x();
  if (DTypeSize(dtype) == 0) return Fail(b, "eye", "invalid dtype");
  return Single(b, "eye", {n, m, k}, {{"dtype", DTypeAttr(dtype)}}, dtype, {false, false});
}

Var Eye(GraphBuilder& g, int64_t n, std::optional<int64_t> m, int64_t k, DType dtype) {
  return Eye(g.Literal(n), g.Literal(m.value_or(n)), g.Literal(k), dtype);
}

Var Tile(Var x, std::vector<int64_t> reps) {
  GraphBuilder* b = Check("tile", {x});
  if (!b) return Var();
  if (std::any_of(reps.begin(), reps.end(), [](int64_t r) { return r < 0; })) {
    return Fail(b, "tile", absl::StrCat("reps must be >= 0, got [", absl::StrJoin(reps, ","), "]"));
  }
  if (static_cast<int>(reps.size()) < x.ndim())
    reps.insert(reps.begin(), x.ndim() - reps.size(), 1);
  const int nd = static_cast<int>(reps.size()), lead = nd - x.ndim();
  const std::vector<bool> in = x.broadcastable();
  std::vector<bool> broadcastable(nd);
  for (int d = 0; d < nd; ++d) broadcastable[d] = reps[d] == 1 && (d < lead || in[d - lead]);
  return Single(b, "tile", {x}, {{"reps", IntsAttr(reps)}}, x.dtype(), broadcastable);
}

Var Repeat(Var x, Var repeats, std::optional<int64_t> axis) {
  GraphBuilder* b = Check("repeat", {x, repeats});
  if (!b) return Var();
  if (!IsInteger(repeats.dtype()) || repeats.ndim() > 1) {
    return Fail(b, "repeat", "repeats must be an integer scalar or vector");
  }
  if (!axis) return Single(b, "repeat", {x, repeats}, {}, x.dtype(), {false});
  absl::StatusOr<int64_t> a = internal::NormalizeAxis("repeat", *axis, x.ndim());
  if (!a.ok()) return b->Fail(a.status());
  std::vector<bool> broadcastable = x.broadcastable();
  if (internal::ConstantInt(repeats) != std::optional<int64_t>(1)) broadcastable[*a] = false;
  return Single(b, "repeat", {x, repeats}, {{"axis", IntAttr(*a)}}, x.dtype(), broadcastable);
}

Var Repeat(Var x, int64_t repeats, std::optional<int64_t> axis) {
  return Repeat(x, internal::Lift(x, repeats), axis);
}

Var Flatten(Var x, int64_t ndim) {
  GraphBuilder* b = Check("flatten", {x});
  if (!b) return Var();
  if (ndim < 1 || (ndim > 1 && ndim > x.ndim())) {
    return Fail(b, "flatten", absl::StrCat("ndim ", ndim, " out of range for rank ", x.ndim()));
  }
  const std::vector<bool> in = x.broadcastable();
  std::vector<bool> broadcastable(in.begin(), in.begin() + (ndim - 1));
  bool last = true;
  for (int d = ndim - 1; d < x.ndim(); ++d) last = last && in[d];
  broadcastable.push_back(last);
  return Single(b, "flatten", {x}, {{"ndim", IntAttr(ndim)}}, x.dtype(), broadcastable);
}

Var Join(int64_t axis, const std::vector<Var>& tensors) {
  GraphBuilder* b = Check("join", tensors);
  if (!b) return Var();
  if (tensors.size() == 1) return tensors[0];
  const int ndim = tensors[0].ndim();
  if (ndim == 0) return Fail(b, "join", "cannot join 0-d tensors (use Stack)");
  absl::StatusOr<int64_t> a = internal::NormalizeAxis("join", axis, ndim);
  if (!a.ok()) return b->Fail(a.status());
  std::vector<bool> broadcastable(ndim, false);
  DType dtype = tensors[0].dtype();
  for (Var t : tensors) {
    if (t.ndim() != ndim) return Fail(b, "join", "all inputs must have the same rank");
    dtype = ResultType(dtype, t.dtype());
    const std::vector<bool> bc = t.broadcastable();
    for (int d = 0; d < ndim; ++d) {
      if (d != *a && bc[d]) broadcastable[d] = true;
    }
  }
  return Single(b, "join", tensors, {{"axis", IntAttr(*a)}}, dtype, broadcastable);
}

Var Concatenate(const std::vector<Var>& tensors, int64_t axis) { return Join(axis, tensors); }

Var Stack(const std::vector<Var>& tensors, int64_t axis) {
  GraphBuilder* b = Check("stack", tensors);
  if (!b) return Var();
  if (std::all_of(tensors.begin(), tensors.end(), [](Var t) { return t.ndim() == 0; })) {
    std::vector<DType> dtypes;
    for (Var t : tensors) dtypes.push_back(t.dtype());
    return MakeVector(*b, tensors, internal::Promote(dtypes));
  }
  std::vector<Var> padded;
  for (Var t : tensors) padded.push_back(ShapePadAxis(t, axis));
  if (padded.size() == 1) return padded[0];
  return Join(axis, padded);
}

Var Sort(Var x, std::optional<int64_t> axis) { return SortOp("sort", x, axis, x.dtype()); }
Var Argsort(Var x, std::optional<int64_t> axis) { return SortOp("argsort", x, axis, kInt64); }

Var Squeeze(Var x) {
  std::vector<int64_t> order;
  const std::vector<bool> bc = x.broadcastable();
  for (int d = 0; d < x.ndim(); ++d) {
    if (!bc[d]) order.push_back(d);
  }
  return Dimshuffle(x, order);
}

Var ShapePadLeft(Var x, int n_ones) {
  std::vector<int64_t> order(n_ones, -1);
  for (int d = 0; d < x.ndim(); ++d) order.push_back(d);
  return Dimshuffle(x, order);
}

Var ShapePadRight(Var x, int n_ones) {
  std::vector<int64_t> order;
  for (int d = 0; d < x.ndim(); ++d) order.push_back(d);
  order.insert(order.end(), n_ones, -1);
  return Dimshuffle(x, order);
}

Var ShapePadAxis(Var x, int64_t axis) {
  const int ndim = x.ndim() + 1;
  if (axis < -ndim || axis >= ndim) {
    return Fail(x.builder(), "shape_padaxis", absl::StrCat("axis ", axis, " out of range"));
  }
  if (axis < 0) axis += ndim;
  std::vector<int64_t> order;
  for (int d = 0; d < x.ndim(); ++d) order.push_back(d);
  order.insert(order.begin() + axis, -1);
  return Dimshuffle(x, order);
}

Var SwapAxes(Var x, int64_t axis1, int64_t axis2) {
  absl::StatusOr<int64_t> a = internal::NormalizeAxis("swapaxes", axis1, x.ndim());
  absl::StatusOr<int64_t> c = internal::NormalizeAxis("swapaxes", axis2, x.ndim());
  if (!a.ok() || !c.ok()) return Fail(x.builder(), "swapaxes", "axis out of range");
  std::vector<int64_t> order;
  for (int d = 0; d < x.ndim(); ++d) order.push_back(d);
  std::swap(order[*a], order[*c]);
  return Dimshuffle(x, order);
}

}  // namespace tensord::client
