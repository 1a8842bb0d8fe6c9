#include "engine/backends/cpu/cast.h"

#include <cstring>

#include "engine/backends/cpu/dispatch.h"

namespace tensord::cpu {

absl::Status CastInto(const runtime::Tensor& src, DType to, runtime::Tensor& dst) {
  TENSORD_RETURN_IF_ERROR(dst.Reshape(to, src.shape()));
  if (src.dtype() == to) {
    if (src.num_bytes() > 0 && dst.raw() != src.raw())
      std::memcpy(dst.raw(), src.raw(), src.num_bytes());
    return absl::OkStatus();
  }
  const int64_t n = src.num_elements();
  return DispatchAll(src.dtype(), [&](auto from_tag) {
    using From = typename decltype(from_tag)::type;
    return DispatchAll(to, [&](auto to_tag) {
      using To = typename decltype(to_tag)::type;
      const From* s = src.data<From>();
      To* d = dst.data<To>();
      for (int64_t i = 0; i < n; ++i) {
        if constexpr (std::is_same_v<To, bool>) {
          d[i] = s[i] != From{};
        } else {
          d[i] = static_cast<To>(s[i]);
        }
      }
      return absl::OkStatus();
    });
  });
}

}  // namespace tensord::cpu
