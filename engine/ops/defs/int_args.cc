#include "engine/ops/defs/int_args.h"

#include "engine/common/dtype_dispatch.h"

namespace tensord::ops {

namespace {

// Where element i (in C order) of `t` sits, whatever its strides.
int64_t Offset(const runtime::Tensor& t, int64_t i) {
  int64_t offset = 0;
  for (int d = t.ndim() - 1; d >= 0; --d) {
    offset += (i % t.shape()[d]) * t.strides()[d];
    i /= t.shape()[d];
  }
  return offset;
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> ReadInts(const runtime::Tensor& t, const char* what) {
  std::vector<int64_t> values(t.num_elements());
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) {
      return InvalidArgument(what, " must be an integer tensor, got ", DTypeName(t.dtype()));
    } else {
      for (size_t i = 0; i < values.size(); ++i) {
        values[i] = static_cast<int64_t>(t.data<T>()[Offset(t, static_cast<int64_t>(i))]);
      }
      return absl::OkStatus();
    }
  }));
  return values;
}

absl::StatusOr<int64_t> ReadInt(const runtime::Tensor& t, const char* what) {
  TENSORD_ASSIGN_OR_RETURN(auto values, ReadInts(t, what));
  if (values.size() != 1) return InvalidArgument(what, " must be a scalar");
  return values[0];
}

absl::Status RequireInt(const ir::Variable* v, int ndim, const char* what) {
  if (!IsInteger(v->type.dtype) || v->type.ndim() != ndim) {
    return InvalidArgument(what, " must be an integer ", ndim == 0 ? "scalar" : "vector", ", got ",
                           ir::TypeString(v->type));
  }
  return absl::OkStatus();
}

std::optional<int64_t> ConstantInt(const ir::Variable* v) {
  if (v->source != ir::Source::kConstant || v->type.ndim() != 0 || !IsInteger(v->type.dtype)) {
    return std::nullopt;
  }
  auto value = ReadInt(v->constant, "constant");
  if (!value.ok()) return std::nullopt;
  return *value;
}

}  // namespace tensord::ops
