#include "engine/backends/cpu/conv_gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/backends/cpu/blas.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {
namespace {

// The geometry with the spatial dims padded to three in front (size 1, one tap, stride 1), so
// one loop nest serves 1-d, 2-d and 3-d convolutions.
struct Geometry3 {
  int64_t in[3], k[3], out[3], s[3], p[3], d[3];
  int64_t in_size, taps, out_size;        // products over the spatial dims
  int64_t group_in, group_out, col_rows;  // channels per group; col_rows = group_in * taps
};

Geometry3 To3(const ops::ConvGeometry& g) {
  Geometry3 q;
  const int nd = static_cast<int>(g.in.size()), skip = 3 - nd;
  for (int i = 0; i < 3; ++i) {
    const bool pad = i < skip;
    q.in[i] = pad ? 1 : g.in[i - skip];
    q.k[i] = pad ? 1 : g.kernel[i - skip];
    q.out[i] = pad ? 1 : g.out[i - skip];
    q.s[i] = pad ? 1 : g.stride[i - skip];
    q.p[i] = pad ? 0 : g.pad[i - skip];
    q.d[i] = pad ? 1 : g.dilation[i - skip];
  }
  q.in_size = q.in[0] * q.in[1] * q.in[2];
  q.taps = q.k[0] * q.k[1] * q.k[2];
  q.out_size = q.out[0] * q.out[1] * q.out[2];
  q.group_in = g.channels / g.groups;
  q.group_out = g.out_channels / g.groups;
  q.col_rows = q.group_in * q.taps;
  return q;
}

// Visits, for every (channel, tap) row and output position, the input element it reads (or
// none, in the padding): fn(col_index, input_index or -1). Im2Col and Col2Im are this walk.
template <typename Fn>
void WalkColumns(const Geometry3& q, int64_t channels, Fn&& fn) {
  int64_t col = 0;
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t kz = 0; kz < q.k[0]; ++kz) {
      for (int64_t ky = 0; ky < q.k[1]; ++ky) {
        for (int64_t kx = 0; kx < q.k[2]; ++kx) {
          for (int64_t oz = 0; oz < q.out[0]; ++oz) {
            const int64_t iz = oz * q.s[0] - q.p[0] + kz * q.d[0];
            const bool z_in = iz >= 0 && iz < q.in[0];
            for (int64_t oy = 0; oy < q.out[1]; ++oy) {
              const int64_t iy = oy * q.s[1] - q.p[1] + ky * q.d[1];
              const bool zy_in = z_in && iy >= 0 && iy < q.in[1];
              const int64_t base = (c * q.in[0] + iz) * q.in[1] * q.in[2] + iy * q.in[2];
              for (int64_t ox = 0; ox < q.out[2]; ++ox, ++col) {
                const int64_t ix = ox * q.s[2] - q.p[2] + kx * q.d[2];
                fn(col, zy_in && ix >= 0 && ix < q.in[2] ? base + ix : -1);
              }
            }
          }
        }
      }
    }
  }
}

template <typename T>
void Im2Col(const Geometry3& q, const T* x, T* col) {
  WalkColumns(q, q.group_in, [&](int64_t i, int64_t src) { col[i] = src >= 0 ? x[src] : T(0); });
}

template <typename T>
void Col2ImAdd(const Geometry3& q, const T* col, T* x) {
  WalkColumns(q, q.group_in, [&](int64_t i, int64_t dst) {
    if (dst >= 0) x[dst] += col[i];
  });
}

// The columns of one image and group, allocated as a tensor so the run's memory counts it
// (taps times the output's size: RESOURCE_EXHAUSTED where that does not fit).
template <typename T>
absl::StatusOr<runtime::Tensor> ColumnBuffer(const Geometry3& q) {
  return runtime::Tensor::Allocate(DTypeOf<T>(), {q.col_rows, q.out_size});
}

}  // namespace

template <typename T>
absl::Status ConvForwardGemm(const ops::ConvGeometry& g, const T* x, const T* w, T* y) {
  const Geometry3 q = To3(g);
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor col_buffer, ColumnBuffer<T>(q));
  T* col = col_buffer.data<T>();
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      Im2Col(q, x + (n * g.channels + grp * q.group_in) * q.in_size, col);
      Gemm<T>(false, false, q.group_out, q.out_size, q.col_rows, T(1),
              w + grp * q.group_out * q.col_rows, q.col_rows, col, q.out_size, T(0),
              y + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size);
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status ConvBackwardDataGemm(const ops::ConvGeometry& g, const T* w, const T* dy, T* dx) {
  const Geometry3 q = To3(g);
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor col_buffer, ColumnBuffer<T>(q));
  T* col = col_buffer.data<T>();
  std::fill(dx, dx + g.batch * g.channels * q.in_size, T(0));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      Gemm<T>(true, false, q.col_rows, q.out_size, q.group_out, T(1),
              w + grp * q.group_out * q.col_rows, q.col_rows,
              dy + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size, T(0), col,
              q.out_size);
      Col2ImAdd(q, col, dx + (n * g.channels + grp * q.group_in) * q.in_size);
    }
  }
  return absl::OkStatus();
}

template <typename T>
absl::Status ConvBackwardWeightsGemm(const ops::ConvGeometry& g, const T* x, const T* dy, T* dw) {
  const Geometry3 q = To3(g);
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor col_buffer, ColumnBuffer<T>(q));
  T* col = col_buffer.data<T>();
  std::fill(dw, dw + g.out_channels * q.col_rows, T(0));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      Im2Col(q, x + (n * g.channels + grp * q.group_in) * q.in_size, col);
      Gemm<T>(false, true, q.group_out, q.col_rows, q.out_size, T(1),
              dy + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size, col,
              q.out_size, T(1), dw + grp * q.group_out * q.col_rows, q.col_rows);
    }
  }
  return absl::OkStatus();
}

template absl::Status ConvForwardGemm(const ops::ConvGeometry&, const float*, const float*, float*);
template absl::Status ConvForwardGemm(const ops::ConvGeometry&, const double*, const double*,
                                      double*);
template absl::Status ConvBackwardDataGemm(const ops::ConvGeometry&, const float*, const float*,
                                           float*);
template absl::Status ConvBackwardDataGemm(const ops::ConvGeometry&, const double*, const double*,
                                           double*);
template absl::Status ConvBackwardWeightsGemm(const ops::ConvGeometry&, const float*, const float*,
                                              float*);
template absl::Status ConvBackwardWeightsGemm(const ops::ConvGeometry&, const double*,
                                              const double*, double*);

}  // namespace tensord::cpu
