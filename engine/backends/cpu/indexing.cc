#include "engine/backends/cpu/indexing.h"

#include "engine/backends/cpu/broadcast.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu::indexing {

absl::StatusOr<int64_t> ReadScalarIndex(const runtime::Tensor& t) {
  int64_t value = 0;
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) {
      return InvalidArgument("an index must be an integer, got ", DTypeName(t.dtype()));
    } else {
      const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      if constexpr (std::is_same_v<T, uint64_t>) {
        if (t.data<T>()[0] > limit) return InvalidArgument("index ", t.data<T>()[0], " too large");
      }
      value = static_cast<int64_t>(t.data<T>()[0]);
      return absl::OkStatus();
    }
  }));
  return value;
}

absl::StatusOr<int64_t> FieldValue(const Field& f, std::span<const runtime::Tensor* const> in) {
  if (f.input < 0) return f.value;
  return ReadScalarIndex(*in[f.input]);
}

absl::Status ApplyInt(int64_t index, int axis, int64_t n, int64_t stride, int64_t* offset) {
  if (index < -n || index >= n) {
    return InvalidArgument("index ", index, " is out of bounds for axis ", axis, " with size ", n);
  }
  *offset += (index < 0 ? index + n : index) * stride;
  return absl::OkStatus();
}

absl::StatusOr<Dim> ApplySlice(const Entry& e, std::span<const runtime::Tensor* const> in,
                               int64_t n, int64_t stride, int64_t* offset) {
  int64_t step = 1;
  if (!e.f[2].none) {
    TENSORD_ASSIGN_OR_RETURN(step, FieldValue(e.f[2], in));
    if (step == 0) return InvalidArgument("slice step cannot be zero");
  }
  const int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? n - 1 : n;
  auto bound = [&](const Field& f, int64_t dflt) -> absl::StatusOr<int64_t> {
    if (f.none) return dflt;
    TENSORD_ASSIGN_OR_RETURN(int64_t v, FieldValue(f, in));
    if (v < 0) {
      // Avoids overflow for huge negative values: anything below -n clamps to `lower`.
      v = v < -n ? lower : v + n;
      return std::max(v, lower);
    }
    return std::min(v, upper);
  };
  TENSORD_ASSIGN_OR_RETURN(int64_t start, bound(e.f[0], step < 0 ? upper : lower));
  TENSORD_ASSIGN_OR_RETURN(int64_t stop, bound(e.f[1], step < 0 ? lower : upper));
  // start and stop lie in [-1, n], so their distance fits; a step near +-2^63 must not overflow
  // (step + distance, -INT64_MIN or stride * step), hence the unsigned magnitude.
  const int64_t span = step > 0 ? stop - start : start - stop;
  const uint64_t magnitude =
      step > 0 ? static_cast<uint64_t>(step) : 0 - static_cast<uint64_t>(step);
  const int64_t len =
      span > 0 ? 1 + static_cast<int64_t>(static_cast<uint64_t>(span - 1) / magnitude) : 0;
  // An empty slice reads nothing; keep the view's first element inside the buffer anyway.
  if (len > 0) *offset += start * stride;
  // With two or more elements |step| < n, so stride * step stays inside the buffer's extent.
  return Dim{len, len > 1 ? stride * step : stride};
}

absl::StatusOr<runtime::Tensor> BasicView(const runtime::Tensor& x,
                                          const std::vector<Entry>& entries,
                                          std::span<const runtime::Tensor* const> in) {
  runtime::Shape shape;
  runtime::Strides strides;
  int64_t offset = 0;
  for (int d = 0; d < x.ndim(); ++d) {
    const int64_t n = x.shape()[d], stride = x.strides()[d];
    if (d >= static_cast<int>(entries.size())) {
      shape.push_back(n);
      strides.push_back(stride);
    } else if (entries[d].kind == ops::subtensor::Kind::kInt) {
      TENSORD_ASSIGN_OR_RETURN(int64_t i, FieldValue(entries[d].f[0], in));
      TENSORD_RETURN_IF_ERROR(ApplyInt(i, d, n, stride, &offset));
    } else {
      TENSORD_ASSIGN_OR_RETURN(Dim dim, ApplySlice(entries[d], in, n, stride, &offset));
      shape.push_back(dim.size);
      strides.push_back(dim.stride);
    }
  }
  return x.StridedView(std::move(shape), std::move(strides), offset);
}

absl::Status CheckAssignable(const runtime::Tensor& dst, const runtime::Tensor& y, bool set) {
  if (y.ndim() > dst.ndim()) {
    return InvalidArgument("cannot ", set ? "set" : "increment", " a ", dst.ndim(),
                           "-d subtensor with a ", y.ndim(), "-d value");
  }
  const Shape* shapes[] = {&y.shape(), &dst.shape()};
  auto joint = BroadcastShapes(shapes);
  if (!joint.ok() || *joint != dst.shape()) {
    return InvalidArgument("value of shape ", runtime::ShapeString(y.shape()),
                           " cannot be broadcast to the indexed shape ",
                           runtime::ShapeString(dst.shape()));
  }
  return absl::OkStatus();
}

absl::Status AssignInto(const runtime::Tensor& dst, const runtime::Tensor& y, bool set) {
  TENSORD_RETURN_IF_ERROR(CheckAssignable(dst, y, set));
  const Strides ys = BroadcastStrides(y, dst.shape());
  return DispatchAll(dst.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    T* d = dst.data<T>();
    const T* s = y.data<T>();
    const int64_t dstep = dst.ndim() ? dst.strides().back() : 0;
    const int64_t sstep = ys.empty() ? 0 : ys.back();
    ForEachRow(dst.shape(), {dst.strides(), ys}, [&](int64_t n, int64_t, const int64_t* off) {
      T* dr = d + off[0];
      const T* sr = s + off[1];
      for (int64_t i = 0; i < n; ++i) {
        if (set) {
          dr[i * dstep] = sr[i * sstep];
        } else {
          dr[i * dstep] = static_cast<T>(dr[i * dstep] + sr[i * sstep]);
        }
      }
    });
    return absl::OkStatus();
  });
}

absl::Status CopyInto(const runtime::Tensor& x, runtime::Tensor& out) {
  TENSORD_RETURN_IF_ERROR(out.Reshape(x.dtype(), x.shape()));
  StridedCopyAny(x, x.strides(), out);
  return absl::OkStatus();
}

}  // namespace tensord::cpu::indexing
