// Row-major GEMM for every CPU kernel that multiplies matrices (dot, tensordot, batched dot,
// gemm, the float64 convolution): OpenBLAS run single-threaded on blocks of C that the
// intra-op threads share.
//
// Why not OpenBLAS's own threads: its (pthreads) workers busy-wait in sched_yield for 2^28
// cycles (~0.1 s) after every call, so in a training step they held a core while oneDNN's
// OpenMP team and our pool computed (a third of the server's CPU time in a LeNet step; the
// step went from 165 to 140 ms without it). Our pool sleeps on a condition variable instead.
#pragma once

#include <cstdint>

namespace tensord::cpu {

// C (m x n, leading dim ldc) = alpha op(A) op(B) + beta C, op(A) m x k and op(B) k x n; `ta` /
// `tb`: the operand is stored transposed. Blocks of C's rows (or columns, when it is wider
// than tall) run on the intra-op threads when the product is big enough to pay for them.
template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc);

}  // namespace tensord::cpu
