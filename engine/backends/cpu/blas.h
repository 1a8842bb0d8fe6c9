// Row-major GEMM for every CPU kernel that multiplies matrices (dot, tensordot, batched dot,
// gemm, the float64 convolution): blocks of C that the intra-op threads share, each computed
// single-threaded by OpenBLAS or by another library, oneDNN's sgemm for float32 and Eigen's
// product for float64, whichever a first product of the shape measured faster.
//
// Why measure: none wins everywhere. OpenBLAS runs the kernels it picks by CPU model, or
// those OPENBLAS_CORETYPE names (the development machines set Haswell: AVX2 on a CPU with
// AVX-512); oneDNN picks by instruction set. With oneDNN on AVX2 too, OpenBLAS is as fast or
// faster (1.7x on a transposed A); with oneDNN on AVX-512 and OpenBLAS on AVX2, oneDNN is about
// twice as fast, and Eigen's double kernels built for AVX-512 1.6-1.9x (oneDNN has no double
// GEMM).
//
// Why not OpenBLAS's own threads: its (pthreads) workers busy-wait in sched_yield for 2^28
// cycles (~0.1 s) after every call, so in a training step they held a core while oneDNN's
// OpenMP team and our pool computed (a third of the server's CPU time in a LeNet step; the
// step went from 165 to 140 ms without it). Our pool sleeps on a condition variable instead.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace tensord::cpu {

// C (m x n, leading dim ldc) = alpha op(A) op(B) + beta C, op(A) m x k and op(B) k x n; `ta` /
// `tb`: the operand is stored transposed. Blocks of C's rows (or columns, when it is wider
// than tall) run on the intra-op threads when the product is big enough to pay for them.
//
// With an `epilogue`, epilogue(first_row, rows) then runs on each block of C's rows once the
// product wrote it, on the thread that computed it, while the block may still be in its caches
// (dot_composite's program). Where C has too few rows to give each thread a block, the product
// is split by columns and the epilogue called once, on all of C, after it.
using RowBlockEpilogue = std::function<void(int64_t first_row, int64_t rows)>;
template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc,
          const RowBlockEpilogue& epilogue = {});

// Which library multiplies: kAuto times OpenBLAS against oneDNN (float32) or Eigen (float64)
// on the first product of each shape (dtype, transposes, m, n, k, threads; on at most 512 rows
// and columns of it) and keeps the faster for that shape. Products under 2^21 multiply-adds,
// new shapes past the first 4096 and products with alpha == 0 run on OpenBLAS, as float64 ones
// do where the CPU lacks AVX-512 (Eigen's kernels are built for it only). kOneDnn pins float32
// products on oneDNN, kEigen float64 ones on Eigen (the other dtype on OpenBLAS), kOpenBlas
// every product on OpenBLAS. The libraries round differently: pin one for bit-identical results
// across restarts with the same intra-op threads (Eigen's, unlike OpenBLAS's, may also differ
// in the last bits between thread counts: a block's leftover rows take other kernels). Products
// run inside another kernel's ParallelFor stay on their thread.
enum class GemmLibrary { kAuto, kOpenBlas, kOneDnn, kEigen };
void SetGemmLibrary(GemmLibrary library);
// What kAuto chose for a shape of T (float or double): kAuto while it has not chosen (small
// products never).
template <typename T>
GemmLibrary AutoGemmChoice(bool ta, bool tb, int64_t m, int64_t n, int64_t k);
// Whether Eigen's float64 kernels run on this CPU (they are built for AVX512F only).
bool EigenGemmRuns();
// Blocks oneDNN refused (computed by OpenBLAS instead) since the process started.
int64_t OneDnnRefusals();
// For the startup log: OpenBLAS's kernels (and OPENBLAS_CORETYPE when set), oneDNN's and
// Eigen's versions and instruction sets, and the library setting.
std::string GemmLibrariesDescription();

}  // namespace tensord::cpu
