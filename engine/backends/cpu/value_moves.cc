#include "engine/backends/cpu/value_moves.h"

#include <cstring>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {
namespace {

using runtime::Tensor;

class HostMoves final : public backends::ValueMoves {
 public:
  absl::Status Copy(const Tensor& src, const Tensor& dst) override {
    Tensor out = dst;  // a view: writing through it writes dst's buffer
    StridedCopyAny(src, src.strides(), out);
    return absl::OkStatus();
  }

  absl::Status Add(const Tensor& src, const Tensor& dst) override {
    if (!dst.is_contiguous()) return Internal("accumulating into a strided value");
    const Tensor s = Contiguous(src);
    return DispatchFloat(dst.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* a = s.data<T>();
      T* out = dst.data<T>();
      for (int64_t i = 0, n = dst.num_elements(); i < n; ++i) out[i] += a[i];
      return absl::OkStatus();
    });
  }

  absl::Status Zeros(DType dtype, const runtime::Shape& shape, Tensor& out) override {
    TENSORD_RETURN_IF_ERROR(out.Reshape(dtype, shape));
    if (out.num_bytes() > 0) std::memset(out.raw(), 0, out.num_bytes());
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Truthy(const Tensor& t) override { return IsTruthy(t); }
};

}  // namespace

backends::ValueMoves& HostValueMoves() {
  static HostMoves* moves = new HostMoves();
  return *moves;
}

}  // namespace tensord::cpu
