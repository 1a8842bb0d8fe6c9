#include "engine/backends/cpu/blas.h"

#include <cblas.h>

#include <algorithm>
#include <type_traits>

#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

// Multiply-adds below which a product stays on the calling thread (waking a worker costs
// tens of microseconds; a 64^3 product takes about as long).
constexpr double kParallelMultiplyAdds = 1 << 18;

// Blocks start on multiples of this (a multiple of OpenBLAS's register tiles on every x86
// kernel), so no block ends in a ragged tile that the whole product would not have.
constexpr int64_t kBlockAlign = 16;

// OpenBLAS computes on the calling thread only; once, before the first product.
void SingleThreadedOpenBlas() {
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
}

template <typename T>
void Blas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  const CBLAS_TRANSPOSE cta = ta ? CblasTrans : CblasNoTrans, ctb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, cta, ctb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, cta, ctb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

}  // namespace

template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  SingleThreadedOpenBlas();
  const int threads = runtime::IntraOpThreads();
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  if (threads <= 1 || work < kParallelMultiplyAdds || extent < 2 * kBlockAlign) {
    Blas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  // One block per thread, whole multiples of kBlockAlign (so at least one of them; with more
  // threads than that allows, fewer blocks).
  const int64_t share = (extent + threads - 1) / threads;
  const int64_t per_block =
      std::max(kBlockAlign, (share + kBlockAlign - 1) / kBlockAlign * kBlockAlign);
  const int64_t blocks = (extent + per_block - 1) / per_block;
  runtime::ParallelFor(blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t block = first; block < last; ++block) {
      const int64_t lo = block * per_block, len = std::min(per_block, extent - lo);
      if (by_rows) {  // rows lo.. of op(A) and of C
        Blas(ta, tb, len, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc,
             ldc);
      } else {  // columns lo.. of op(B) and of C
        Blas(ta, tb, m, len, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
      }
    }
  });
}

template void Gemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                   const float*, int64_t, float, float*, int64_t);
template void Gemm(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                   const double*, int64_t, double, double*, int64_t);

}  // namespace tensord::cpu
