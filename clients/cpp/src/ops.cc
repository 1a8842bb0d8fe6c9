#include "tensord/ops.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/op_util.h"

namespace tensord::client {

using internal::Check;
using internal::Single;

Var Fill(Var model, Var value) {
  // Its rule is code, not schema data: the value's dtype, whatever the model's.
  return internal::Elemwise(
      "fill", {model, value},
      [](const std::vector<DType>& d) -> absl::StatusOr<DType> { return d[1]; });
}

Var Dot(Var a, Var b) {
  GraphBuilder* g = Check("dot", {a, b});
  if (!g) return Var();
  // numpy.dot: a's last axis with b's second-to-last (its only one for a vector); a 0-d operand
  // sums nothing. The result has a's free dims, then b's.
  const int na = a.ndim(), nb = b.ndim();
  const std::vector<bool> ba = a.broadcastable(), bb = b.broadcastable();
  const int summed_b = nb >= 2 ? nb - 2 : 0;
  std::vector<bool> broadcastable;
  for (int d = 0; d < na; ++d) {
    if (nb == 0 || d != na - 1) broadcastable.push_back(ba[d]);
  }
  for (int d = 0; d < nb; ++d) {
    if (na == 0 || d != summed_b) broadcastable.push_back(bb[d]);
  }
  return Single(g, "dot", {a, b}, {}, ResultType(a.dtype(), b.dtype()), broadcastable);
}

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
