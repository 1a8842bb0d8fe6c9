#include "tensord/ops.h"

#include <algorithm>
#include <functional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tensord::client {
namespace {

using ::tensord::v1::TensorType;

TensorType MakeType(DType dtype, const std::vector<bool>& broadcastable) {
  TensorType type;
  type.set_dtype(dtype);
  type.mutable_broadcastable()->Add(broadcastable.begin(), broadcastable.end());
  return type;
}

// The builder all `vars` should share; nullptr when every one is invalid (nothing to report to).
GraphBuilder* BuilderOf(const std::vector<Var>& vars) {
  for (Var v : vars) {
    if (v.builder()) return v.builder();
  }
  return nullptr;
}

// Returns the builder when `vars` are usable, after recording an error on it otherwise.
GraphBuilder* Check(absl::string_view op, const std::vector<Var>& vars) {
  GraphBuilder* b = BuilderOf(vars);
  if (!b) return nullptr;
  if (absl::Status s = b->CheckOwned(op, vars); !s.ok()) {
    b->Fail(s);
    return nullptr;
  }
  return b;
}

Var Single(GraphBuilder* b, std::string op, const std::vector<Var>& inputs, AttrMap attrs,
           DType dtype, const std::vector<bool>& broadcastable) {
  return b->Apply(std::move(op), inputs, std::move(attrs), {MakeType(dtype, broadcastable)})[0];
}

// Elemwise ops need equal ranks: Theano pads a lower-rank input on the left with broadcastable
// dimensions (dimshuffle{x,...,0,1,..}), which is NumPy's broadcasting made explicit.
Var Elemwise(std::string op, std::vector<Var> inputs,
             const std::function<DType(const std::vector<DType>&)>& dtype_rule) {
  GraphBuilder* b = Check(op, inputs);
  if (!b) return Var();
  int rank = 0;
  for (Var v : inputs) rank = std::max(rank, v.ndim());
  std::vector<bool> broadcastable(rank, true);
  std::vector<DType> dtypes;
  for (Var& v : inputs) {
    if (const int missing = rank - v.ndim(); missing > 0) {
      std::vector<int64_t> order(missing, -1);
      for (int i = 0; i < v.ndim(); ++i) order.push_back(i);
      v = Dimshuffle(v, order);
    }
    const std::vector<bool> bc = v.broadcastable();
    for (int i = 0; i < rank; ++i) broadcastable[i] = broadcastable[i] && bc[i];
    dtypes.push_back(v.dtype());
  }
  const DType dtype = dtype_rule(dtypes);
  if (DTypeSize(dtype) == 0) {
    std::vector<std::string> names;
    for (DType d : dtypes) names.push_back(DTypeName(d));
    return b->Fail(absl::InvalidArgumentError(
        absl::StrCat(op, ": not defined for inputs of dtype ", absl::StrJoin(names, ", "))));
  }
  return Single(b, std::move(op), inputs, {}, dtype, broadcastable);
}

DType Promote(const std::vector<DType>& dtypes) {
  DType out = dtypes.front();
  for (DType d : dtypes) out = ResultType(out, d);
  return out;
}

DType PromoteToFloat(const std::vector<DType>& dtypes) { return UpgradeToFloat(Promote(dtypes)); }

// NumPy refuses bool - bool and -bool; reporting it here names the op before the server does.
DType PromoteNoBool(const std::vector<DType>& dtypes) {
  const DType out = Promote(dtypes);
  return out == kBool ? ::tensord::v1::DT_INVALID : out;
}

Var Variadic(std::string op, const std::vector<Var>& inputs) {
  if (inputs.size() == 1) return inputs[0];
  if (inputs.empty()) {
    GraphBuilder* b = BuilderOf(inputs);
    return b ? b->Fail(absl::InvalidArgumentError(op + ": needs at least one input")) : Var();
  }
  return Elemwise(std::move(op), inputs, Promote);
}

// Validates `axes` against rank `ndim` and returns them non-negative and sorted.
absl::StatusOr<std::vector<int64_t>> NormalizeAxes(absl::string_view op, std::vector<int64_t> axes,
                                                   int ndim) {
  for (int64_t& a : axes) {
    if (a < -ndim || a >= ndim) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": axis ", a, " out of range for an input of rank ", ndim));
    }
    if (a < 0) a += ndim;
  }
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end()) {
    return absl::InvalidArgumentError(absl::StrCat(op, ": repeated axis"));
  }
  return axes;
}

Var Reduce(std::string op, Var x, const std::vector<int64_t>& axes, DType dtype, AttrMap attrs) {
  GraphBuilder* b = Check(op, {x});
  if (!b) return Var();
  std::vector<int64_t> reduced;
  if (!axes.empty()) {
    absl::StatusOr<std::vector<int64_t>> normalized = NormalizeAxes(op, axes, x.ndim());
    if (!normalized.ok()) return b->Fail(normalized.status());
    reduced = *std::move(normalized);
    attrs["axis"] = IntsAttr(reduced);
  } else {
    for (int i = 0; i < x.ndim(); ++i) reduced.push_back(i);
  }
  std::vector<bool> broadcastable;
  const std::vector<bool> in = x.broadcastable();
  for (int i = 0; i < x.ndim(); ++i) {
    if (!std::binary_search(reduced.begin(), reduced.end(), i)) broadcastable.push_back(in[i]);
  }
  return Single(b, std::move(op), {x}, std::move(attrs), dtype, broadcastable);
}

}  // namespace

Var Add(const std::vector<Var>& terms) { return Variadic("add", terms); }
Var Mul(const std::vector<Var>& factors) { return Variadic("mul", factors); }
Var Sub(Var a, Var b) { return Elemwise("sub", {a, b}, PromoteNoBool); }
Var TrueDiv(Var a, Var b) { return Elemwise("true_div", {a, b}, PromoteToFloat); }
Var Pow(Var a, Var b) { return Elemwise("pow", {a, b}, Promote); }
Var Neg(Var x) { return Elemwise("neg", {x}, PromoteNoBool); }
Var Exp(Var x) { return Elemwise("exp", {x}, PromoteToFloat); }
Var Log(Var x) { return Elemwise("log", {x}, PromoteToFloat); }

Var Fill(Var model, Var value) {
  return Elemwise("fill", {model, value}, [](const std::vector<DType>& d) { return d[1]; });
}

Var Dot(Var a, Var b) {
  GraphBuilder* g = Check("dot", {a, b});
  if (!g) return Var();
  const int na = a.ndim(), nb = b.ndim();
  if (na < 1 || na > 2 || nb < 1 || nb > 2) {
    return g->Fail(absl::InvalidArgumentError(
        absl::StrCat("dot: inputs must be vectors or matrices, got ranks ", na, " and ", nb)));
  }
  // Theano's Dot: the result keeps a's leading dims and b's trailing one.
  const std::vector<bool> ba = a.broadcastable(), bb = b.broadcastable();
  std::vector<bool> broadcastable(ba.begin(), ba.end() - 1);
  if (nb == 2) broadcastable.push_back(bb[1]);
  return Single(g, "dot", {a, b}, {}, ResultType(a.dtype(), b.dtype()), broadcastable);
}

Var Sum(Var x, const std::vector<int64_t>& axes, DType dtype) {
  AttrMap attrs;
  if (dtype != ::tensord::v1::DT_INVALID) {
    attrs["dtype"] = DTypeAttr(dtype);
  } else {
    dtype = SumDType(x.dtype());
  }
  return Reduce("sum", x, axes, dtype, std::move(attrs));
}

Var Max(Var x, const std::vector<int64_t>& axes) { return Reduce("max", x, axes, x.dtype(), {}); }

Var Reshape(Var x, const std::vector<int64_t>& shape) {
  GraphBuilder* b = Check("reshape", {x});
  if (!b) return Var();
  if (std::count(shape.begin(), shape.end(), -1) > 1 ||
      std::any_of(shape.begin(), shape.end(), [](int64_t d) { return d < -1; })) {
    return b->Fail(absl::InvalidArgumentError(absl::StrCat(
        "reshape: bad shape [", absl::StrJoin(shape, ","), "] (at most one -1, others >= 0)")));
  }
  std::vector<bool> broadcastable;
  for (int64_t d : shape) broadcastable.push_back(d == 1);
  Var shape_var = b->Constant(HostTensor::Vector<int64_t>(shape));
  return Single(b, "reshape", {x, shape_var},
                {{"ndim", IntAttr(static_cast<int64_t>(shape.size()))}}, x.dtype(), broadcastable);
}

Var Dimshuffle(Var x, const std::vector<int64_t>& new_order) {
  GraphBuilder* b = Check("dimshuffle", {x});
  if (!b) return Var();
  const std::vector<bool> in = x.broadcastable();
  std::vector<bool> kept(in.size(), false), broadcastable;
  for (int64_t i : new_order) {
    if (i == -1) {
      broadcastable.push_back(true);
      continue;
    }
    if (i < 0 || i >= x.ndim() || kept[i]) {
      return b->Fail(absl::InvalidArgumentError(absl::StrCat("dimshuffle: bad new_order [",
                                                             absl::StrJoin(new_order, ","),
                                                             "] for an input of rank ", x.ndim())));
    }
    kept[i] = true;
    broadcastable.push_back(in[i]);
  }
  for (size_t i = 0; i < in.size(); ++i) {
    if (!kept[i] && !in[i]) {
      return b->Fail(absl::InvalidArgumentError(
          absl::StrCat("dimshuffle: cannot drop dimension ", i, ", which is not broadcastable")));
    }
  }
  return Single(b, "dimshuffle", {x}, {{"new_order", IntsAttr(new_order)}}, x.dtype(),
                broadcastable);
}

Var Transpose(Var x) {
  if (x.ndim() <= 1) return x;
  std::vector<int64_t> order;
  for (int i = x.ndim() - 1; i >= 0; --i) order.push_back(i);
  return Dimshuffle(x, order);
}

Var Cast(Var x, DType dtype) {
  GraphBuilder* b = Check("cast", {x});
  if (!b) return Var();
  if (DTypeSize(dtype) == 0) {
    return b->Fail(absl::InvalidArgumentError("cast: invalid target dtype"));
  }
  if (x.dtype() == dtype) return x;
  return Single(b, "cast", {x}, {{"dtype", DTypeAttr(dtype)}}, dtype, x.broadcastable());
}

Var Alloc(Var value, const std::vector<Var>& dims) {
  std::vector<Var> inputs = {value};
  inputs.insert(inputs.end(), dims.begin(), dims.end());
  GraphBuilder* b = Check("alloc", inputs);
  if (!b) return Var();
  if (static_cast<int>(dims.size()) < value.ndim()) {
    return b->Fail(absl::InvalidArgumentError(
        absl::StrCat("alloc: ", dims.size(), " dims cannot hold a value of rank ", value.ndim())));
  }
  std::vector<bool> broadcastable;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i].ndim() != 0 || !IsInteger(dims[i].dtype())) {
      return b->Fail(
          absl::InvalidArgumentError(absl::StrCat("alloc: dim ", i, " must be an integer scalar")));
    }
    // Like Theano, only a dimension known to be 1 at graph-building time is broadcastable.
    broadcastable.push_back(b->ConstantScalarValue(dims[i]) == 1.0);
  }
  return Single(b, "alloc", inputs, {}, value.dtype(), broadcastable);
}

Var Alloc(Var value, const std::vector<int64_t>& dims) {
  std::vector<Var> dim_vars;
  for (int64_t d : dims) dim_vars.push_back(internal::Lift(value, d));
  return Alloc(value, dim_vars);
}

}  // namespace tensord::client
