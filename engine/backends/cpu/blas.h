// Row-major GEMM for every CPU kernel that multiplies matrices (dot, tensordot, batched dot,
// gemm, the float64 convolution): blocks of C that the intra-op threads share, each computed
// single-threaded by OpenBLAS or, for float32, by oneDNN's sgemm, whichever a first product of
// the shape measured faster.
//
// Why measure: neither wins everywhere. OpenBLAS runs the kernels it picks by CPU model, or
// those OPENBLAS_CORETYPE names (the development machines set Haswell: AVX2 on a CPU with
// AVX-512); oneDNN picks by instruction set. With oneDNN on AVX2 too, OpenBLAS is as fast or
// faster (1.7x on a transposed A); with oneDNN on AVX-512 and OpenBLAS on AVX2, oneDNN is about
// twice as fast.
//
// Why not OpenBLAS's own threads: its (pthreads) workers busy-wait in sched_yield for 2^28
// cycles (~0.1 s) after every call, so in a training step they held a core while oneDNN's
// OpenMP team and our pool computed (a third of the server's CPU time in a LeNet step; the
// step went from 165 to 140 ms without it). Our pool sleeps on a condition variable instead.
#pragma once

#include <cstdint>
#include <string>

namespace tensord::cpu {

// C (m x n, leading dim ldc) = alpha op(A) op(B) + beta C, op(A) m x k and op(B) k x n; `ta` /
// `tb`: the operand is stored transposed. Blocks of C's rows (or columns, when it is wider
// than tall) run on the intra-op threads when the product is big enough to pay for them.
template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

// Which library multiplies float32 products (--gemm_library): kAuto times both on the first
// product of each shape (transposes, m, n, k, threads; on at most 512 rows and columns of it)
// and keeps the faster for that shape. Products under 2^21 multiply-adds, new shapes past the
// first 4096, products with alpha == 0 and all float64 ones (oneDNN has no double GEMM) run on
// OpenBLAS. The two round differently: pin one for bit-identical float32 results across
// restarts. Products run inside another kernel's ParallelFor stay on their thread.
enum class GemmLibrary { kAuto, kOpenBlas, kOneDnn };
void SetGemmLibrary(GemmLibrary library);
// What kAuto chose for a float32 shape: kAuto while it has not chosen (small products never).
GemmLibrary AutoGemmChoice(bool ta, bool tb, int64_t m, int64_t n, int64_t k);
// Blocks oneDNN refused (computed by OpenBLAS instead) since the process started.
int64_t OneDnnRefusals();
// For the startup log: OpenBLAS's kernels (and OPENBLAS_CORETYPE when set), oneDNN's
// version and instruction set, and the library setting.
std::string GemmLibrariesDescription();

}  // namespace tensord::cpu
