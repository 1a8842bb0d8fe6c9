#include "tensord/ops_reduce.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/op_util.h"
#include "src/reduction_typing.h"

namespace tensord::client {
namespace {

namespace v1 = ::tensord::v1;

using internal::Check;
using internal::Single;

// The reduced axes (sorted, non-negative), or an error recorded on x's builder.
std::optional<std::vector<int64_t>> ReducedAxes(GraphBuilder* b, absl::string_view op, Var x,
                                                const std::vector<int64_t>& axes) {
  if (axes.empty()) {
    std::vector<int64_t> all;
    for (int i = 0; i < x.ndim(); ++i) all.push_back(i);
    return all;
  }
  absl::StatusOr<std::vector<int64_t>> normalized = internal::NormalizeAxes(op, axes, x.ndim());
  if (!normalized.ok()) {
    b->Fail(normalized.status());
    return std::nullopt;
  }
  return *std::move(normalized);
}

// A reduction the op schema types, of x over `axes` (empty: all of them). The structure is
// inferred here: the reduced dims disappear, the others keep their broadcastable flags. The
// output dtypes are the schema's rules for `op` (ReducedDTypes), applied to x's dtype and the
// attribute `dtype` where `attrs` has one, as the server reads the node.
std::vector<Var> Reduction(std::string op, Var x, const std::vector<int64_t>& axes,
                           AttrMap attrs = {}) {
  GraphBuilder* b = Check(op, {x});
  if (!b) return {};
  std::optional<std::vector<int64_t>> reduced = ReducedAxes(b, op, x, axes);
  if (!reduced) return {};
  const internal::ReductionOp* row = internal::FindReductionOp(op);
  if (!row) {
    internal::Fail(b, op, "has no reduction typing in the op schema this client was built from");
    return {};
  }
  const auto dtype_attr = attrs.find("dtype");
  absl::StatusOr<std::vector<DType>> dtypes = internal::ReducedDTypes(
      *row, x.dtype(), dtype_attr != attrs.end() ? dtype_attr->second.dtype() : v1::DT_INVALID);
  if (!dtypes.ok()) {
    internal::Fail(b, op, dtypes.status().message());
    return {};
  }
  if (!axes.empty()) attrs["axis"] = IntsAttr(*reduced);
  const std::vector<bool> broadcastable = internal::KeptBroadcastable(x, *reduced);
  std::vector<v1::TensorType> types;
  for (DType d : *dtypes) types.push_back(internal::MakeType(d, broadcastable));
  return b->Apply(std::move(op), {x}, std::move(attrs), types);
}

Var Reduce1(std::string op, Var x, const std::vector<int64_t>& axes, AttrMap attrs = {}) {
  std::vector<Var> out = Reduction(std::move(op), x, axes, std::move(attrs));
  return out.empty() ? Var() : out[0];
}

// Sum's and prod's attribute `dtype`, the accumulator, when the caller names one.
AttrMap AccumulatorAttrs(DType dtype) {
  if (dtype == v1::DT_INVALID) return {};
  return {{"dtype", DTypeAttr(dtype)}};
}

Var Moment(std::string op, Var x, const std::vector<int64_t>& axes, int64_t ddof, bool corrected) {
  if (ddof < 0) {
    return internal::Fail(x.builder(), op, absl::StrCat("ddof must be >= 0, got ", ddof));
  }
  AttrMap attrs = {{"ddof", IntAttr(ddof)}};
  if (corrected) attrs["corrected"] = BoolAttr(true);
  return Reduce1(std::move(op), x, axes, std::move(attrs));
}

Var Cum(Var x, std::optional<int64_t> axis, const char* mode) {
  GraphBuilder* b = Check("cumop", {x});
  if (!b) return Var();
  AttrMap attrs = {{"mode", StringAttr(mode)}};
  std::vector<bool> broadcastable = {false};
  if (axis) {
    absl::StatusOr<int64_t> a = internal::NormalizeAxis("cumop", *axis, x.ndim());
    if (!a.ok()) return b->Fail(a.status());
    attrs["axis"] = IntsAttr({*a});
    broadcastable = x.broadcastable();
  }
  // cumop is no schema reduction (its typing is code on the server): it accumulates as sum.
  return Single(b, "cumop", {x}, std::move(attrs), SumDType(x.dtype()), broadcastable);
}

}  // namespace

Var Sum(Var x, const std::vector<int64_t>& axes, DType dtype) {
  return Reduce1("sum", x, axes, AccumulatorAttrs(dtype));
}
Var Prod(Var x, const std::vector<int64_t>& axes, DType dtype) {
  return Reduce1("prod", x, axes, AccumulatorAttrs(dtype));
}

Var Max(Var x, const std::vector<int64_t>& axes) { return Reduce1("max", x, axes); }
Var Min(Var x, const std::vector<int64_t>& axes) { return Reduce1("min", x, axes); }
Var All(Var x, const std::vector<int64_t>& axes) { return Reduce1("all", x, axes); }
Var Any(Var x, const std::vector<int64_t>& axes) { return Reduce1("any", x, axes); }
Var Argmax(Var x, const std::vector<int64_t>& axes) { return Reduce1("argmax", x, axes); }
Var Argmin(Var x, const std::vector<int64_t>& axes) { return Reduce1("argmin", x, axes); }

std::pair<Var, Var> MaxAndArgmax(Var x, const std::vector<int64_t>& axes) {
  std::vector<Var> out = Reduction("max_and_argmax", x, axes);
  if (out.size() != 2) return {};
  return {out[0], out[1]};
}

Var Mean(Var x, const std::vector<int64_t>& axes) { return Reduce1("mean", x, axes); }

Var Variance(Var x, const std::vector<int64_t>& axes, int64_t ddof, bool corrected) {
  return Moment("var", x, axes, ddof, corrected);
}

Var Std(Var x, const std::vector<int64_t>& axes, int64_t ddof, bool corrected) {
  return Moment("std", x, axes, ddof, corrected);
}

Var Ptp(Var x, const std::vector<int64_t>& axes) { return Max(x, axes) - Min(x, axes); }

Var CumSum(Var x, std::optional<int64_t> axis) { return Cum(x, axis, "add"); }
Var CumProd(Var x, std::optional<int64_t> axis) { return Cum(x, axis, "mul"); }

Var KeepDims(Var reduced, Var x, const std::vector<int64_t>& axes) {
  GraphBuilder* b = Check("keepdims", {reduced, x});
  if (!b) return Var();
  std::optional<std::vector<int64_t>> removed = ReducedAxes(b, "keepdims", x, axes);
  if (!removed) return Var();
  if (reduced.ndim() + static_cast<int>(removed->size()) != x.ndim()) {
    return internal::Fail(b, "keepdims", "the reduced tensor does not match x and axes");
  }
  std::vector<int64_t> order;
  int64_t next = 0;
  for (int d = 0; d < x.ndim(); ++d) {
    const bool gone = std::binary_search(removed->begin(), removed->end(), d);
    order.push_back(gone ? -1 : next++);
  }
  return Dimshuffle(reduced, order);
}

}  // namespace tensord::client
