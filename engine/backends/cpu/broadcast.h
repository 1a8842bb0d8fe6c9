// NumPy broadcasting and strided iteration shared by the CPU kernels.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "engine/common/status.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

using runtime::Shape;
using runtime::Strides;

// The NumPy broadcast of several shapes, or INVALID_ARGUMENT naming the clashing dimension.
absl::StatusOr<Shape> BroadcastShapes(std::span<const Shape* const> shapes);

// Strides that read `t` as if it had shape `out` (left-padded, 0 where broadcast).
Strides BroadcastStrides(const runtime::Tensor& t, const Shape& out);

// Operands walking a C-contiguous output of `shape`, each through its strides `full` (one
// Strides per operand, BroadcastStrides'), with the dims every operand walks uniformly merged:
// contiguous data becomes one long row. Dims of size 1 are dropped, so a shape of ones (or a
// 0-d one) merges to no dims at all.
struct MergedDims {
  Shape shape;
  std::vector<Strides> strides;  // per operand, one per merged dim
};
MergedDims MergeDims(const Shape& shape, const std::vector<Strides>& full);

// Walks `out_shape` in C order and calls row(n, out_offset, in_offsets) once per innermost
// row, where in_offsets[k] is the element offset of operand k at the row's start; along the row
// operand k advances by strides[k].back(). Zero-size shapes call nothing.
template <typename RowFn>
void ForEachRow(const Shape& out_shape, const std::vector<Strides>& strides, RowFn&& row) {
  const int nd = static_cast<int>(out_shape.size());
  const size_t k = strides.size();
  // Inline storage: no heap allocation per call for up to 8 operands and 8 dims.
  absl::InlinedVector<int64_t, 8> offsets(k, 0);
  if (runtime::NumElements(out_shape) == 0) return;
  if (nd == 0) {
    row(int64_t{1}, int64_t{0}, offsets.data());
    return;
  }
  const int64_t inner = out_shape[nd - 1];
  absl::InlinedVector<int64_t, 8> index(nd, 0);
  int64_t out_offset = 0;
  while (true) {
    row(inner, out_offset, offsets.data());
    out_offset += inner;
    int d = nd - 2;
    for (; d >= 0; --d) {
      ++index[d];
      for (size_t i = 0; i < k; ++i) offsets[i] += strides[i][d];
      if (index[d] < out_shape[d]) break;
      for (size_t i = 0; i < k; ++i) offsets[i] -= strides[i][d] * out_shape[d];
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// How a walk of `shape` (at least one dim) splits over the intra-op threads: along its
// outermost dim, in ranges of about `elements` elements (at least one index each).
inline int64_t OuterIndicesPerRange(const Shape& shape, int64_t elements) {
  int64_t inner = 1;
  for (size_t d = 1; d < shape.size(); ++d) inner *= shape[d];
  return std::max<int64_t>(1, elements / inner);
}

// ForEachRow over the outermost dim's indices [begin, end) of `shape` (at least one dim): one
// range of such a split. The offsets it passes are the whole walk's.
template <typename RowFn>
void ForEachRowIn(const Shape& shape, const std::vector<Strides>& strides, int64_t begin,
                  int64_t end, RowFn&& row) {
  Shape part = shape;
  part[0] = end - begin;
  int64_t inner = 1;
  for (size_t d = 1; d < shape.size(); ++d) inner *= shape[d];
  absl::InlinedVector<int64_t, 8> shifted(strides.size());
  ForEachRow(part, strides, [&](int64_t n, int64_t out_offset, const int64_t* in_offsets) {
    for (size_t i = 0; i < strides.size(); ++i) {
      shifted[i] = in_offsets[i] + begin * strides[i][0];
    }
    row(n, out_offset + begin * inner, shifted.data());
  });
}

// Copies `src` read through `src_strides` (viewed with dst's shape) into contiguous `dst`.
template <typename T>
void StridedCopy(const T* src, const Strides& src_strides, const Shape& out_shape, T* dst) {
  const int64_t inner_stride = src_strides.empty() ? 0 : src_strides.back();
  ForEachRow(out_shape, {src_strides}, [&](int64_t n, int64_t out, const int64_t* in) {
    const T* s = src + in[0];
    T* d = dst + out;
    for (int64_t i = 0; i < n; ++i) d[i] = s[i * inner_stride];
  });
}

// StridedCopy for any dtype (dispatches on element size); `dst` must already be sized.
void StridedCopyAny(const runtime::Tensor& src, const Strides& src_strides, runtime::Tensor& dst);

// Makes `out` hold x's elements in C order with `shape` (same element count): a zero-copy view
// when x is contiguous, else a contiguous copy into out's buffer viewed with `shape`.
absl::Status ViewAsShape(const runtime::Tensor& x, Shape shape, runtime::Tensor& out);

// `t` itself when contiguous, else a contiguous copy (for BLAS and serialization).
runtime::Tensor Contiguous(const runtime::Tensor& t);
// `t`'s elements contiguous in host memory, whatever memory holds them (a GPU's comes out
// through the device's copies, runtime::OnHost) and whichever context the thread charges: how a
// value is staged before a device copies it in.
absl::StatusOr<runtime::Tensor> HostContiguous(const runtime::Tensor& t);
// A contiguous copy of t's elements in a buffer of its own.
runtime::Tensor Copy(const runtime::Tensor& t);

}  // namespace tensord::cpu
