#include "engine/backends/cpu/broadcast.h"

#include <algorithm>

namespace tensord::cpu {

absl::StatusOr<Shape> BroadcastShapes(std::span<const Shape* const> shapes) {
  size_t nd = 0;
  for (const Shape* s : shapes) nd = std::max(nd, s->size());
  Shape out(nd, 1);
  for (size_t d = 0; d < nd; ++d) {
    bool set = false;
    for (const Shape* s : shapes) {
      int64_t pos = static_cast<int64_t>(d) - static_cast<int64_t>(nd - s->size());
      if (pos < 0) continue;
      int64_t dim = (*s)[pos];
      if (dim == 1) continue;
      if (!set || out[d] == dim) {
        out[d] = dim;
        set = true;
        continue;
      }
      std::string all;
      for (const Shape* t : shapes) {
        absl::StrAppend(&all, all.empty() ? "" : ", ", runtime::ShapeString(*t));
      }
      return InvalidArgument("shapes ", all, " cannot be broadcast together (dimension ", d, ": ",
                             out[d], " vs ", dim, ")");
    }
  }
  return out;
}

MergedDims MergeDims(const Shape& shape, const std::vector<Strides>& full) {
  MergedDims m;
  m.strides.resize(full.size());
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !m.shape.empty();
    for (size_t k = 0; merge && k < full.size(); ++k)
      merge = m.strides[k].back() == full[k][d] * shape[d];
    if (merge) {
      m.shape.back() *= shape[d];
      for (size_t k = 0; k < full.size(); ++k) m.strides[k].back() = full[k][d];
    } else {
      m.shape.push_back(shape[d]);
      for (size_t k = 0; k < full.size(); ++k) m.strides[k].push_back(full[k][d]);
    }
  }
  return m;
}

Strides BroadcastStrides(const runtime::Tensor& t, const Shape& out) {
  Strides s(out.size(), 0);
  size_t lead = out.size() - t.shape().size();
  for (size_t d = 0; d < t.shape().size(); ++d) {
    s[lead + d] = t.shape()[d] == 1 ? 0 : t.strides()[d];
  }
  return s;
}

void StridedCopyAny(const runtime::Tensor& src, const Strides& src_strides, runtime::Tensor& dst) {
  switch (DTypeSize(src.dtype())) {
    case 1:
      return StridedCopy(src.data<uint8_t>(), src_strides, dst.shape(), dst.data<uint8_t>());
    case 2:
      return StridedCopy(src.data<uint16_t>(), src_strides, dst.shape(), dst.data<uint16_t>());
    case 4:
      return StridedCopy(src.data<uint32_t>(), src_strides, dst.shape(), dst.data<uint32_t>());
    default:
      return StridedCopy(src.data<uint64_t>(), src_strides, dst.shape(), dst.data<uint64_t>());
  }
}

absl::Status ViewAsShape(const runtime::Tensor& x, Shape shape, runtime::Tensor& out) {
  if (x.is_contiguous()) {
    out = x.View(std::move(shape));
    return absl::OkStatus();
  }
  TENSORD_RETURN_IF_ERROR(out.Reshape(x.dtype(), x.shape()));
  StridedCopyAny(x, x.strides(), out);
  out = out.View(std::move(shape));
  return absl::OkStatus();
}

absl::StatusOr<runtime::Tensor> HostContiguous(const runtime::Tensor& t) {
  runtime::ScopedMemoryContext host(runtime::MemoryCounterFor("cpu"));
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor staged, runtime::OnHost(t));
  return Contiguous(staged);
}

runtime::Tensor Contiguous(const runtime::Tensor& t) {
  if (t.is_contiguous()) return t;
  return Copy(t);
}

runtime::Tensor Copy(const runtime::Tensor& t) {
  runtime::Tensor copy(t.dtype(), t.shape());
  StridedCopyAny(t, t.strides(), copy);
  return copy;
}

}  // namespace tensord::cpu
