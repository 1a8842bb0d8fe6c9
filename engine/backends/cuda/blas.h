// Matrix products on a GPU with cuBLAS, in row-major terms and with no CUDA type in sight (blas.cc
// with CUDA; device_none.cc refuses). One handle per device, on the device's legacy default
// stream like every kernel of the provider. cuBLAS's default math mode is kept: float32 products
// round as float32 (no TF32), as the host's do.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "engine/common/dtype.h"

namespace tensord::cuda {

// A batch of products (cuBLAS's strided batched gemm): item i's operands start `stride_a`,
// `stride_b` and `stride_c` elements after item i - 1's. c's items follow one another
// (stride_c = m * n).
struct GemmBatch {
  int64_t count = 1;
  int64_t stride_a = 0, stride_b = 0, stride_c = 0;
};

// c (m x n, row-major, leading dimension n) = alpha * op(a) op(b) + beta * c on device
// `ordinal`, where op(a) is m x k (a row-major with leading dimension lda, or its transpose
// when trans_a) and op(b) k x n likewise; float32 or float64 device memory; for each item of
// `batch`. k == 0 gives beta * c (zeros when beta is 0).
absl::Status Gemm(int ordinal, DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n,
                  int64_t k, double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                  double beta, void* c, const GemmBatch& batch = {});

}  // namespace tensord::cuda
