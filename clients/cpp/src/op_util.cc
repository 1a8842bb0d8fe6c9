#include "src/op_util.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "tensord/ops.h"

namespace tensord::client::internal {

using ::tensord::v1::TensorType;

TensorType MakeType(DType dtype, const std::vector<bool>& broadcastable) {
  TensorType type;
  type.set_dtype(dtype);
  type.mutable_broadcastable()->Add(broadcastable.begin(), broadcastable.end());
  return type;
}

GraphBuilder* BuilderOf(const std::vector<Var>& vars) {
  for (Var v : vars) {
    if (v.builder()) return v.builder();
  }
  return nullptr;
}

GraphBuilder* Check(absl::string_view op, const std::vector<Var>& vars) {
  GraphBuilder* b = BuilderOf(vars);
  if (!b) return nullptr;
  if (absl::Status s = b->CheckOwned(op, vars); !s.ok()) {
    b->Fail(s);
    return nullptr;
  }
  return b;
}

Var Fail(GraphBuilder* b, absl::string_view op, absl::string_view message) {
  if (!b) return Var();
  return b->Fail(absl::InvalidArgumentError(absl::StrCat(op, ": ", message)));
}

Var Single(GraphBuilder* b, std::string op, const std::vector<Var>& inputs, AttrMap attrs,
           DType dtype, const std::vector<bool>& broadcastable) {
  return b->Apply(std::move(op), inputs, std::move(attrs), {MakeType(dtype, broadcastable)})[0];
}

Var Elemwise(std::string op, std::vector<Var> inputs, const DTypeRule& dtype_rule, AttrMap attrs) {
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
  absl::StatusOr<DType> dtype = dtype_rule(dtypes);
  if (!dtype.ok()) return Fail(b, op, dtype.status().message());
  return Single(b, std::move(op), inputs, std::move(attrs), *dtype, broadcastable);
}

DType Promote(const std::vector<DType>& dtypes) {
  DType out = dtypes.front();
  for (DType d : dtypes) out = ResultType(out, d);
  return out;
}

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

absl::StatusOr<int64_t> NormalizeAxis(absl::string_view op, int64_t axis, int ndim) {
  absl::StatusOr<std::vector<int64_t>> axes = NormalizeAxes(op, {axis}, ndim);
  if (!axes.ok()) return axes.status();
  return (*axes)[0];
}

std::vector<bool> KeptBroadcastable(Var x, const std::vector<int64_t>& reduced) {
  std::vector<bool> out;
  const std::vector<bool> in = x.broadcastable();
  for (int i = 0; i < x.ndim(); ++i) {
    if (!std::binary_search(reduced.begin(), reduced.end(), i)) out.push_back(in[i]);
  }
  return out;
}

std::optional<int64_t> ConstantInt(Var v) {
  if (!v.valid() || !IsInteger(v.dtype()) || v.ndim() != 0) return std::nullopt;
  const auto* var = v.builder()->Find(v);
  if (!var || !var->has_constant()) return std::nullopt;
  absl::StatusOr<HostTensor> t = HostTensor::FromProto(var->constant());
  if (!t.ok() || t->num_elements() != 1) return std::nullopt;
  int64_t value = 0;
  // Little-endian bytes: the low bytes of a wider integer hold the value, sign-extended below.
  const std::string& bytes = t->bytes();
  std::memcpy(&value, bytes.data(), bytes.size());
  const int bits = static_cast<int>(bytes.size()) * 8;
  if (bits < 64 && IsSignedInt(v.dtype()) && (value >> (bits - 1)) & 1) value |= ~0LL << bits;
  return value;
}

const ::tensord::v1::Apply* ProducerOf(Var v) {
  if (!v.valid()) return nullptr;
  const auto& applies = v.builder()->graph().applies();
  for (int i = applies.size() - 1; i >= 0; --i) {
    for (int64_t out : applies[i].outputs()) {
      if (out == v.id()) return &applies[i];
    }
  }
  return nullptr;
}

}  // namespace tensord::client::internal
