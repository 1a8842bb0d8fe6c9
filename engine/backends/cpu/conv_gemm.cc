#include "engine/backends/cpu/conv_gemm.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <vector>

#include "engine/backends/cpu/blas.h"
#include "engine/runtime/parallel.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {
namespace {

// Visits, for every (channel, tap) row and output position, the input element it reads (or
// none, in the padding): fn(col_index, input_index or -1). Im2Col and Col2Im are this walk.
template <typename Fn>
void WalkColumns(const ops::ConvDims3& q, int64_t channels, Fn&& fn) {
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
void Im2Col(const ops::ConvDims3& q, const T* x, T* col) {
  WalkColumns(q, q.group_in, [&](int64_t i, int64_t src) { col[i] = src >= 0 ? x[src] : T(0); });
}

template <typename T>
void Col2ImAdd(const ops::ConvDims3& q, const T* col, T* x) {
  WalkColumns(q, q.group_in, [&](int64_t i, int64_t dst) {
    if (dst >= 0) x[dst] += col[i];
  });
}

// The columns of one image and group, allocated as a tensor so the run's memory counts it
// (taps times the output's size: RESOURCE_EXHAUSTED where that does not fit).
template <typename T>
absl::StatusOr<runtime::Tensor> ColumnBuffer(const ops::ConvDims3& q) {
  return runtime::Tensor::Allocate(DTypeOf<T>(), {q.col_rows, q.out_size});
}

// Runs fn(first image, end image, column buffer, block) over the batch cut into one block per
// intra-op thread (one block below kParallelMultiplyAdds of work), blocks in parallel, each
// range of blocks with its own column buffer. The first error stops nothing but is returned.
constexpr double kParallelMultiplyAdds = 1 << 22;

int64_t ImageBlocks(const ops::ConvGeometry& g, const ops::ConvDims3& q) {
  const double work = static_cast<double>(g.batch) * static_cast<double>(g.out_channels) *
                      static_cast<double>(q.col_rows) * static_cast<double>(q.out_size);
  if (work < kParallelMultiplyAdds) return 1;
  return std::max<int64_t>(1, std::min<int64_t>(g.batch, runtime::IntraOpThreads()));
}

template <typename T, typename Fn>
absl::Status ForEachImageBlock(const ops::ConvGeometry& g, const ops::ConvDims3& q, int64_t blocks,
                               Fn&& fn) {
  std::mutex mu;
  absl::Status status;
  runtime::ParallelFor(blocks, 1, [&](int64_t first, int64_t last) {
    absl::StatusOr<runtime::Tensor> col = ColumnBuffer<T>(q);
    if (!col.ok()) {
      std::lock_guard<std::mutex> lock(mu);
      status.Update(col.status());
      return;
    }
    for (int64_t block = first; block < last; ++block)
      fn(block * g.batch / blocks, (block + 1) * g.batch / blocks, col->template data<T>(), block);
  });
  return status;
}

}  // namespace

template <typename T>
absl::Status ConvForwardGemm(const ops::ConvGeometry& g, const T* x, const T* w, T* y) {
  const ops::ConvDims3 q = ops::PaddedTo3(g);
  return ForEachImageBlock<T>(
      g, q, ImageBlocks(g, q), [&](int64_t first, int64_t end, T* col, int64_t) {
        for (int64_t n = first; n < end; ++n) {
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            Im2Col(q, x + (n * g.channels + grp * q.group_in) * q.in_size, col);
            Gemm<T>(false, false, q.group_out, q.out_size, q.col_rows, T(1),
                    w + grp * q.group_out * q.col_rows, q.col_rows, col, q.out_size, T(0),
                    y + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size);
          }
        }
      });
}

template <typename T>
absl::Status ConvBackwardDataGemm(const ops::ConvGeometry& g, const T* w, const T* dy, T* dx) {
  const ops::ConvDims3 q = ops::PaddedTo3(g);
  std::fill(dx, dx + g.batch * g.channels * q.in_size, T(0));
  return ForEachImageBlock<T>(
      g, q, ImageBlocks(g, q), [&](int64_t first, int64_t end, T* col, int64_t) {
        for (int64_t n = first; n < end; ++n) {
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            Gemm<T>(true, false, q.col_rows, q.out_size, q.group_out, T(1),
                    w + grp * q.group_out * q.col_rows, q.col_rows,
                    dy + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size, T(0),
                    col, q.out_size);
            Col2ImAdd(q, col, dx + (n * g.channels + grp * q.group_in) * q.in_size);
          }
        }
      });
}

// Each block of images sums its filter gradient apart (block 0 into dw itself), then the
// blocks' sums are added: no two threads write the same element.
template <typename T>
absl::Status ConvBackwardWeightsGemm(const ops::ConvGeometry& g, const T* x, const T* dy, T* dw) {
  const ops::ConvDims3 q = ops::PaddedTo3(g);
  const int64_t size = g.out_channels * q.col_rows, blocks = ImageBlocks(g, q);
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor partial_buffer,
                           runtime::Tensor::Allocate(DTypeOf<T>(), {blocks - 1, size}));
  T* partials = partial_buffer.data<T>();
  auto sum_of = [&](int64_t block) { return block == 0 ? dw : partials + (block - 1) * size; };
  TENSORD_RETURN_IF_ERROR(
      ForEachImageBlock<T>(g, q, blocks, [&](int64_t first, int64_t end, T* col, int64_t block) {
        T* sum = sum_of(block);
        std::fill(sum, sum + size, T(0));
        for (int64_t n = first; n < end; ++n) {
          for (int64_t grp = 0; grp < g.groups; ++grp) {
            Im2Col(q, x + (n * g.channels + grp * q.group_in) * q.in_size, col);
            Gemm<T>(false, true, q.group_out, q.col_rows, q.out_size, T(1),
                    dy + (n * g.out_channels + grp * q.group_out) * q.out_size, q.out_size, col,
                    q.out_size, T(1), sum + grp * q.group_out * q.col_rows, q.col_rows);
          }
        }
      }));
  for (int64_t block = 1; block < blocks; ++block) {
    const T* sum = sum_of(block);
    for (int64_t i = 0; i < size; ++i) dw[i] += sum[i];
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
