#include "engine/backends/cpu/cast.h"

#include "engine/backends/cpu/broadcast.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {

absl::Status CastInto(const runtime::Tensor& src, DType to, runtime::Tensor& dst) {
  TENSORD_RETURN_IF_ERROR(dst.Reshape(to, src.shape()));
  if (src.dtype() == to) {
    StridedCopyAny(src, src.strides(), dst);
    return absl::OkStatus();
  }
  const int64_t step = src.ndim() == 0 ? 0 : src.strides().back();
  return DispatchAll(src.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return DispatchAll(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* base = src.data<From>();
      To* out = dst.data<To>();
      ForEachRow(src.shape(), {src.strides()}, [&](int64_t n, int64_t o, const int64_t* off) {
        const From* s = base + off[0];
        To* d = out + o;
        for (int64_t i = 0; i < n; ++i) {
          if constexpr (std::is_same_v<To, bool>) {
            d[i] = s[i * step] != From{};
          } else {
            d[i] = static_cast<To>(s[i * step]);
          }
        }
      });
      return absl::OkStatus();
    });
  });
}

absl::StatusOr<bool> IsTruthy(const runtime::Tensor& t) {
  bool result = false;
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    result = t.data<T>()[0] != T{};
    return absl::OkStatus();
  }));
  return result;
}

}  // namespace tensord::cpu
