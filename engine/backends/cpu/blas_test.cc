// Gemm's split over the intra-op threads gives the product a single call gives: blocks of rows
// and of columns, every transpose, alpha and beta, a leading dimension wider than the matrix,
// sizes that are no multiple of the block alignment, against a plain triple loop in double.
#include "engine/backends/cpu/blas.h"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <vector>

#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

template <typename T>
void ExpectProduct(int64_t m, int64_t n, int64_t k, bool ta, bool tb, int threads) {
  std::mt19937 rng(static_cast<unsigned>(m * 131 + n * 7 + k + ta * 2 + tb));
  std::uniform_real_distribution<double> value(-1, 1);
  const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
  std::vector<T> a((ta ? k : m) * lda), b((tb ? n : k) * ldb), c(m * ldc);
  for (auto* v : {&a, &b, &c})
    for (T& e : *v) e = static_cast<T>(value(rng));
  const T alpha = T(0.5), beta = T(-2);
  std::vector<double> want(m * ldc);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < ldc; ++j) {
      if (j >= n) {  // past the matrix: untouched
        want[i * ldc + j] = c[i * ldc + j];
        continue;
      }
      double sum = 0;
      for (int64_t p = 0; p < k; ++p)
        sum += static_cast<double>(ta ? a[p * lda + i] : a[i * lda + p]) *
               static_cast<double>(tb ? b[j * ldb + p] : b[p * ldb + j]);
      want[i * ldc + j] = alpha * sum + beta * static_cast<double>(c[i * ldc + j]);
    }
  }
  runtime::SetIntraOpThreads(threads);
  Gemm<T>(ta, tb, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
  runtime::SetIntraOpThreads(0);
  const double tolerance = sizeof(T) == 4 ? 1e-4 * k : 1e-12 * k;
  for (int64_t i = 0; i < m * ldc; ++i)
    ASSERT_NEAR(c[i], want[i], tolerance)
        << "element " << i << " of " << m << "x" << n << "x" << k << " ta=" << ta << " tb=" << tb;
}

TEST(Gemm, BlocksOfRowsAndColumnsMatchALoop) {
  // (m, n, k): taller than wide (blocks of rows), wider than tall (of columns), a product too
  // small to split, one just past the alignment; 1 to 3 threads, and more threads than rows
  // and columns (fewer blocks than threads).
  const int64_t shapes[][3] = {{301, 77, 45}, {37, 290, 50}, {20, 20, 20}, {33, 40, 300}};
  for (const auto& s : shapes)
    for (int threads : {1, 2, 3, 64})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          ExpectProduct<float>(s[0], s[1], s[2], ta, tb, threads);
          ExpectProduct<double>(s[0], s[1], s[2], ta, tb, threads);
        }
}

// Every library the products may take, and kAuto's timing (which writes scratch, never C) on a
// shape big enough to be timed; with 1 thread too (oneDNN on a team of one).
TEST(Gemm, EveryLibraryGivesTheProductAndAutoRemembersItsChoice) {
  for (GemmLibrary library :
       {GemmLibrary::kOneDnn, GemmLibrary::kEigen, GemmLibrary::kOpenBlas, GemmLibrary::kAuto}) {
    SetGemmLibrary(library);
    for (int threads : {1, 2})
      for (bool ta : {false, true})
        for (bool tb : {false, true}) {
          ExpectProduct<float>(130, 140, 150, ta, tb, threads);
          ExpectProduct<float>(37, 290, 50, ta, tb, threads);
          ExpectProduct<double>(130, 140, 150, ta, tb, threads);
          ExpectProduct<double>(37, 290, 50, ta, tb, threads);
        }
  }
  runtime::SetIntraOpThreads(2);
  const GemmLibrary chosen = AutoGemmChoice<float>(false, false, 130, 140, 150);
  const GemmLibrary chosen64 = AutoGemmChoice<double>(false, false, 130, 140, 150);
  runtime::SetIntraOpThreads(0);
  EXPECT_TRUE(chosen == GemmLibrary::kOneDnn || chosen == GemmLibrary::kOpenBlas);
  // Eigen competes where its AVX-512 kernels run; elsewhere OpenBLAS is not timed against it.
  EXPECT_TRUE(chosen64 == GemmLibrary::kEigen || chosen64 == GemmLibrary::kOpenBlas ||
              (chosen64 == GemmLibrary::kAuto && !EigenGemmRuns()));
  // Too small to time: never chosen.
  EXPECT_EQ(AutoGemmChoice<float>(false, false, 37, 290, 50), GemmLibrary::kAuto);
  EXPECT_EQ(OneDnnRefusals(), 0);  // oneDNN computed its products (no silent OpenBLAS)
  SetGemmLibrary(GemmLibrary::kAuto);
}

// beta == 0 does not read C, whatever the library (BLAS's meaning): a NaN there is gone.
TEST(Gemm, ZeroBetaIgnoresCUnderEveryLibrary) {
  for (GemmLibrary library : {GemmLibrary::kOneDnn, GemmLibrary::kEigen, GemmLibrary::kOpenBlas}) {
    SetGemmLibrary(library);
    const int64_t n = 160;
    std::vector<double> a(n * n, 1.0), b(n * n, 0.5),
        c(n * n, std::numeric_limits<double>::quiet_NaN());
    Gemm<double>(false, true, n, n, n, 2.0, a.data(), n, b.data(), n, 0.0, c.data(), n);
    for (double v : c) ASSERT_EQ(v, 160.0);
    std::vector<float> af(n * n, 1.0f), bf(n * n, 0.5f),
        cf(n * n, std::numeric_limits<float>::quiet_NaN());
    Gemm<float>(true, false, n, n, n, 2.0f, af.data(), n, bf.data(), n, 0.0f, cf.data(), n);
    for (float v : cf) ASSERT_EQ(v, 160.0f);
  }
  SetGemmLibrary(GemmLibrary::kAuto);
}

// alpha == 0 reads neither operand, whatever the library: a NaN there leaves beta * C.
TEST(Gemm, ZeroAlphaIgnoresTheOperandsUnderEveryLibrary) {
  for (GemmLibrary library : {GemmLibrary::kOneDnn, GemmLibrary::kEigen, GemmLibrary::kAuto}) {
    SetGemmLibrary(library);
    const int64_t n = 160;
    std::vector<float> a(n * n, std::numeric_limits<float>::quiet_NaN()), b(n * n, 1.0f),
        c(n * n, 2.0f);
    Gemm<float>(false, false, n, n, n, 0.0f, a.data(), n, b.data(), n, 1.5f, c.data(), n);
    for (float v : c) ASSERT_EQ(v, 3.0f);
    std::vector<double> a64(n * n, std::numeric_limits<double>::quiet_NaN()), b64(n * n, 1.0),
        c64(n * n, 2.0);
    Gemm<double>(false, false, n, n, n, 0.0, a64.data(), n, b64.data(), n, 1.5, c64.data(), n);
    for (double v : c64) ASSERT_EQ(v, 3.0);
  }
  SetGemmLibrary(GemmLibrary::kAuto);
}

}  // namespace
}  // namespace tensord::cpu
