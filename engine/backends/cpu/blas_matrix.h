// How a strided 2-d tensor is handed to BLAS without copying when its layout allows it (dot,
// tensordot and gemm share this).
#pragma once

#include <algorithm>
#include <cstdint>

#include "engine/backends/cpu/blas.h"
#include "engine/backends/cpu/broadcast.h"

namespace tensord::cpu {

// A matrix operand as BLAS wants it: unit stride along either axis goes as it is (transposed
// or not); anything else (negative or gapped strides) is copied to contiguous storage first.
struct BlasMatrix {
  runtime::Tensor storage;
  bool transposed = false;
  int64_t ld = 1;
};

inline BlasMatrix AsBlas(const runtime::Tensor& t) {
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  const int64_t sr = t.strides()[0], sc = t.strides()[1];
  BlasMatrix m{t};
  // Strides of length-1 axes never matter, so they do not disqualify a layout.
  if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols)) {
    m.ld = rows == 1 ? std::max<int64_t>(cols, 1) : sr;
    return m;
  }
  if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows)) {
    m.transposed = true;
    m.ld = cols == 1 ? std::max<int64_t>(rows, 1) : sc;
    return m;
  }
  m.storage = Contiguous(t);
  m.ld = std::max<int64_t>(cols, 1);
  return m;
}

// C (m x n, contiguous) = alpha op(a) op(b) + beta C, for operands prepared by AsBlas; then the
// epilogue, if any, on C's blocks of rows (blas.h).
template <typename T>
void Gemm(const BlasMatrix& a, const BlasMatrix& b, int64_t m, int64_t n, int64_t k, T alpha,
          T beta, T* c, const RowBlockEpilogue& epilogue = {}) {
  Gemm<T>(a.transposed, b.transposed, m, n, k, alpha, a.storage.data<T>(), a.ld,
          b.storage.data<T>(), b.ld, beta, c, std::max<int64_t>(n, 1), epilogue);
}

}  // namespace tensord::cpu
