#include "engine/backends/cuda/blas.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <array>
#include <mutex>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace tensord::cuda {
namespace {

constexpr int kMostDevices = 64;

// Device `ordinal`'s handle, made on first use (on that device) and kept for the process.
absl::StatusOr<cublasHandle_t> HandleOf(int ordinal) {
  static std::mutex mu;
  static std::array<cublasHandle_t, kMostDevices> handles{};
  if (ordinal < 0 || ordinal >= kMostDevices) {
    return absl::InvalidArgumentError(absl::StrCat("no CUDA device ", ordinal));
  }
  std::lock_guard<std::mutex> lock(mu);
  if (handles[ordinal] == nullptr) {
    cublasHandle_t handle;
    if (cublasStatus_t s = cublasCreate(&handle); s != CUBLAS_STATUS_SUCCESS) {
      return absl::InternalError(
          absl::StrCat("cublasCreate on device ", ordinal, ": ", cublasGetStatusString(s)));
    }
    handles[ordinal] = handle;
  }
  return handles[ordinal];
}

}  // namespace

absl::Status Gemm(int ordinal, DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n,
                  int64_t k, double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                  double beta, void* c, const GemmBatch& batch) {
  if (dtype != DType::kFloat32 && dtype != DType::kFloat64) {
    return absl::InvalidArgumentError("cuBLAS products are float32 or float64");
  }
  if (m == 0 || n == 0 || batch.count == 0) return absl::OkStatus();
  const int64_t all = m * n * batch.count;  // c's elements, its items one after another
  int previous = -1;
  if (cudaGetDevice(&previous) != cudaSuccess) previous = -1;
  if (previous != ordinal && cudaSetDevice(ordinal) != cudaSuccess) {
    cudaGetLastError();
    return absl::InternalError(absl::StrCat("cannot select CUDA device ", ordinal));
  }
  absl::StatusOr<cublasHandle_t> handle = HandleOf(ordinal);
  cublasStatus_t s = CUBLAS_STATUS_SUCCESS;
  if (handle.ok()) {
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets b first.
    const cublasOperation_t op_b = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_a = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    const size_t size = dtype == DType::kFloat32 ? 4 : 8;
    if (k == 0 && beta == 0) {  // an empty sum: zeros, whatever c held
      if (cudaMemsetAsync(c, 0, static_cast<size_t>(all) * size, 0) != cudaSuccess) {
        cudaGetLastError();
        s = CUBLAS_STATUS_EXECUTION_FAILED;
      }
    } else if (k == 0) {  // beta * c (a and b have no elements for cuBLAS to read)
      const float beta32 = static_cast<float>(beta);
      s = dtype == DType::kFloat32
              ? cublasSscal_v2_64(*handle, all, &beta32, static_cast<float*>(c), 1)
              : cublasDscal_v2_64(*handle, all, &beta, static_cast<double*>(c), 1);
    } else if (batch.count > 1 && dtype == DType::kFloat32) {
      const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
      s = cublasSgemmStridedBatched_64(*handle, op_b, op_a, n, m, k, &al,
                                       static_cast<const float*>(b), ldb, batch.stride_b,
                                       static_cast<const float*>(a), lda, batch.stride_a, &be,
                                       static_cast<float*>(c), n, batch.stride_c, batch.count);
    } else if (batch.count > 1) {
      s = cublasDgemmStridedBatched_64(*handle, op_b, op_a, n, m, k, &alpha,
                                       static_cast<const double*>(b), ldb, batch.stride_b,
                                       static_cast<const double*>(a), lda, batch.stride_a, &beta,
                                       static_cast<double*>(c), n, batch.stride_c, batch.count);
    } else if (dtype == DType::kFloat32) {
      const float al = static_cast<float>(alpha), be = static_cast<float>(beta);
      s = cublasSgemm_v2_64(*handle, op_b, op_a, n, m, k, &al, static_cast<const float*>(b), ldb,
                            static_cast<const float*>(a), lda, &be, static_cast<float*>(c), n);
    } else {
      s = cublasDgemm_v2_64(*handle, op_b, op_a, n, m, k, &alpha, static_cast<const double*>(b),
                            ldb, static_cast<const double*>(a), lda, &beta, static_cast<double*>(c),
                            n);
    }
  }
  if (previous >= 0 && previous != ordinal) cudaSetDevice(previous);
  if (!handle.ok()) return handle.status();
  if (s != CUBLAS_STATUS_SUCCESS) {
    return absl::InternalError(
        absl::StrCat("cuBLAS gemm on device ", ordinal, ": ", cublasGetStatusString(s)));
  }
  return absl::OkStatus();
}

}  // namespace tensord::cuda
