// Eigen's float64 GEMM, for blas.cc's float64 products (blas.h): built with -mavx512f -mfma
// (engine/CMakeLists.txt) and called only on CPUs with AVX512F (blas.cc checks). On AVX-512
// Eigen's double kernels are about 1.6-1.9x faster than the AVX2 ones of the OpenBLAS that
// Debian ships when those run (docs/performance.md, "Matrix products").
//
// Eigen is templates only: instantiated here with AVX-512 code, they must not be merged with
// copies another file could instantiate for any CPU. Renaming its namespace for this file keeps
// every one of them this file's own; nothing else here may define an inline function or
// template another file could share (the avx_objects_keep_their_code test checks).
#define Eigen TensordEigenAvx512
#define EIGEN_DONT_PARALLELIZE  // one thread: blas.cc splits products over the intra-op threads
#include <Eigen/Core>
#include <cstdint>

namespace tensord::cpu {
namespace {

using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstView = Eigen::Map<const Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;
using View = Eigen::Map<Matrix, Eigen::Unaligned, Eigen::OuterStride<>>;

// C = alpha A B + beta C with BLAS's meaning of beta == 0: C is not read (a NaN there is gone).
template <class OpA, class OpB>
void Product(const OpA& a, const OpB& b, double alpha, double beta, View& c) {
  if (beta == 0.0) {
    c.noalias() = alpha * a * b;
    return;
  }
  if (beta != 1.0) c *= beta;
  c.noalias() += alpha * a * b;
}

}  // namespace

// As blas.cc's OpenBlas<double>: row-major, `ta` / `tb` the operand stored transposed.
void EigenGemmAvx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                     const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                     double* c, int64_t ldc) {
  const ConstView av(a, ta ? k : m, ta ? m : k, Eigen::OuterStride<>(lda));
  const ConstView bv(b, tb ? n : k, tb ? k : n, Eigen::OuterStride<>(ldb));
  View cv(c, m, n, Eigen::OuterStride<>(ldc));
  if (ta && tb) {
    Product(av.transpose(), bv.transpose(), alpha, beta, cv);
  } else if (ta) {
    Product(av.transpose(), bv, alpha, beta, cv);
  } else if (tb) {
    Product(av, bv.transpose(), alpha, beta, cv);
  } else {
    Product(av, bv, alpha, beta, cv);
  }
}

// Eigen's version as world * 10000 + major * 100 + minor (no std::string here: its inline
// functions instantiated with AVX-512 code could be the copy the whole program links).
int EigenVersionNumber() {
  return EIGEN_WORLD_VERSION * 10000 + EIGEN_MAJOR_VERSION * 100 + EIGEN_MINOR_VERSION;
}

}  // namespace tensord::cpu
