#include "engine/backends/cpu/blas.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <map>
#include <mutex>
#include <type_traits>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/runtime/parallel.h"
#include "oneapi/dnnl/dnnl.h"

namespace tensord::cpu {

void EigenGemmAvx512(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha,
                     const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                     double* c, int64_t ldc);  // gemm_eigen_avx512.cc
int EigenVersionNumber();                      // gemm_eigen_avx512.cc

// Eigen's float64 kernels are built for AVX-512 only (on AVX2 they are no faster than
// OpenBLAS's): where the CPU lacks it, OpenBLAS computes.
bool EigenGemmRuns() {
  static const bool avx512 = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") != 0;
  }();
  return avx512;
}

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

// One library's product on the calling thread alone.
template <typename T>
void OpenBlas(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  SingleThreadedOpenBlas();
  const CBLAS_TRANSPOSE cta = ta ? CblasTrans : CblasNoTrans, ctb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, cta, ctb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, cta, ctb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// oneDNN's sgemm with a team of one: our threads split the product as for OpenBLAS (as fast as
// oneDNN's own OpenMP team here, whose workers would spin after each product while our pool
// runs the next node). OpenBLAS computes a block oneDNN refuses.
std::atomic<int64_t> onednn_refusals{0};

void OneDnn(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
            int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  omp_set_num_threads(1);  // this thread's setting; the convolutions set their own each call
  if (dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) !=
      dnnl_success) {
    onednn_refusals.fetch_add(1, std::memory_order_relaxed);
    OpenBlas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

void EigenProduct(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a,
                  int64_t lda, const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  if (EigenGemmRuns()) {
    EigenGemmAvx512(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    OpenBlas(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// The library other than OpenBLAS each dtype may take: oneDNN for float32, Eigen for float64.
template <typename T>
constexpr GemmLibrary kAlternative =
    std::is_same_v<T, float> ? GemmLibrary::kOneDnn : GemmLibrary::kEigen;

template <typename T>
void Alternative(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                 int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if constexpr (std::is_same_v<T, float>) {
    OneDnn(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    EigenProduct(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

// `gemm` (one of the above) on one block of C per thread: rows of C, or columns when it is wider
// than tall. An epilogue runs on each block of rows after it; where C has too few rows for a
// block per thread, the product is split by columns and the epilogue runs once on all of C.
template <typename T, typename Kernel>
void InBlocks(Kernel gemm, bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc, int threads,
              const RowBlockEpilogue* epilogue = nullptr) {
  const double work = static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k);
  const bool rows_for_every_thread = (m + kBlockAlign - 1) / kBlockAlign >= threads;
  const bool by_rows = m >= n || (epilogue != nullptr && rows_for_every_thread);
  const int64_t extent = by_rows ? m : n;
  if (threads <= 1 || work < kParallelMultiplyAdds || extent < 2 * kBlockAlign) {
    gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    if (epilogue != nullptr) (*epilogue)(0, m);
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
        gemm(ta, tb, len, n, k, alpha, ta ? a + lo : a + lo * lda, lda, b, ldb, beta, c + lo * ldc,
             ldc);
        if (epilogue != nullptr) (*epilogue)(lo, len);
      } else {  // columns lo.. of op(B) and of C
        gemm(ta, tb, m, len, k, alpha, a, lda, tb ? b + lo * ldb : b + lo, ldb, beta, c + lo, ldc);
      }
    }
  });
  if (!by_rows && epilogue != nullptr) (*epilogue)(0, m);  // splits over the threads itself
}

std::atomic<GemmLibrary> configured_library{GemmLibrary::kAuto};

// kAuto's choices, per dtype, shape and thread count.
struct ShapeKey {
  int element_bytes;
  bool ta, tb;
  int64_t m, n, k;
  int threads;
  auto operator<=>(const ShapeKey&) const = default;
};
std::mutex choices_mu;
std::map<ShapeKey, GemmLibrary>& Choices() {
  static auto* choices = new std::map<ShapeKey, GemmLibrary>();
  return *choices;
}
// Past this many shapes, new ones are not timed (a server fed ever new shapes would otherwise
// time forever): they take OpenBLAS.
constexpr size_t kMaxTimedShapes = 4096;
// Products below this (about 128^3) are not timed: OpenBLAS, which starts no threads.
constexpr double kTimedMultiplyAdds = 1 << 21;

// The most rows and columns of C a timing computes: a huge product is timed on its corner (the
// same k, the same kernels), so that meeting a new shape costs milliseconds, not seconds.
constexpr int64_t kTimedExtent = 512;

// Times OpenBLAS and the dtype's alternative on scratch output (C may be an input) with the
// call's alpha and beta: one warm-up call and the better of two timed calls each, alternating,
// so that a burst of load hits both alike.
template <typename T>
GemmLibrary TimeBoth(const ShapeKey& s, T alpha, const T* a, int64_t lda, T beta, const T* b,
                     int64_t ldb) {
  const int64_t m = std::min(s.m, kTimedExtent), n = std::min(s.n, kTimedExtent);
  std::vector<T> scratch(static_cast<size_t>(m * n), T(0));  // at most 2 MiB
  auto time_one = [&](GemmLibrary library) {
    const auto start = std::chrono::steady_clock::now();
    if (library == kAlternative<T>) {
      InBlocks(Alternative<T>, s.ta, s.tb, m, n, s.k, alpha, a, lda, b, ldb, beta, scratch.data(),
               n, s.threads);
    } else {
      InBlocks(OpenBlas<T>, s.ta, s.tb, m, n, s.k, alpha, a, lda, b, ldb, beta, scratch.data(), n,
               s.threads);
    }
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  double best[2] = {std::numeric_limits<double>::infinity(),
                    std::numeric_limits<double>::infinity()};
  const GemmLibrary libraries[2] = {GemmLibrary::kOpenBlas, kAlternative<T>};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2; ++i) {
      const double seconds = time_one(libraries[i]);
      if (round > 0) best[i] = std::min(best[i], seconds);
    }
  }
  return best[1] < best[0] ? kAlternative<T> : GemmLibrary::kOpenBlas;
}

// OpenBLAS or the dtype's alternative.
template <typename T>
GemmLibrary ChooseLibrary(const ShapeKey& s, T alpha, const T* a, int64_t lda, T beta, const T* b,
                          int64_t ldb) {
  // alpha == 0: OpenBLAS reads neither operand (a NaN in them does not reach C); so whatever
  // the setting, those products keep that meaning.
  if (alpha == T(0)) return GemmLibrary::kOpenBlas;
  const GemmLibrary configured = configured_library.load(std::memory_order_relaxed);
  if (configured != GemmLibrary::kAuto) {
    return configured == kAlternative<T> ? configured : GemmLibrary::kOpenBlas;
  }
  // Where Eigen would hand its products to OpenBLAS anyway, there is nothing to time.
  if constexpr (std::is_same_v<T, double>) {
    if (!EigenGemmRuns()) return GemmLibrary::kOpenBlas;
  }
  if (static_cast<double>(s.m) * static_cast<double>(s.n) * static_cast<double>(s.k) <
      kTimedMultiplyAdds) {
    return GemmLibrary::kOpenBlas;
  }
  {
    std::lock_guard<std::mutex> lock(choices_mu);
    auto it = Choices().find(s);
    if (it != Choices().end()) return it->second;
    if (Choices().size() >= kMaxTimedShapes) return GemmLibrary::kOpenBlas;
  }
  // Timed outside the lock: two threads meeting a new shape at once both time it, and either
  // answer is a fair one.
  const GemmLibrary timed = TimeBoth(s, alpha, a, lda, beta, b, ldb);
  std::lock_guard<std::mutex> lock(choices_mu);
  return Choices().emplace(s, timed).first->second;  // the first answer stored, for every call
}

}  // namespace

int64_t OneDnnRefusals() { return onednn_refusals.load(std::memory_order_relaxed); }

void SetGemmLibrary(GemmLibrary library) {
  configured_library.store(library, std::memory_order_relaxed);
}

template <typename T>
GemmLibrary AutoGemmChoice(bool ta, bool tb, int64_t m, int64_t n, int64_t k) {
  std::lock_guard<std::mutex> lock(choices_mu);
  auto it = Choices().find({sizeof(T), ta, tb, m, n, k, runtime::IntraOpThreads()});
  return it == Choices().end() ? GemmLibrary::kAuto : it->second;
}
template GemmLibrary AutoGemmChoice<float>(bool, bool, int64_t, int64_t, int64_t);
template GemmLibrary AutoGemmChoice<double>(bool, bool, int64_t, int64_t, int64_t);

std::string GemmLibrariesDescription() {
  const char* core_type = std::getenv("OPENBLAS_CORETYPE");
  const dnnl_version_t* onednn = dnnl_version();
  const char* setting[] = {"auto", "openblas", "onednn", "eigen"};
  return absl::StrCat(
      "OpenBLAS ", openblas_get_corename(), " kernels",
      core_type != nullptr ? absl::StrCat(" (OPENBLAS_CORETYPE=", core_type, ")") : "", ", oneDNN ",
      onednn->major, ".", onednn->minor, ".", onednn->patch, " (",
      (dnnl_get_effective_cpu_isa() & dnnl_cpu_isa_avx512_core) == dnnl_cpu_isa_avx512_core
          ? "AVX-512"
          : "no AVX-512",
      ") for float32, ",
      EigenGemmRuns() ? absl::StrCat("Eigen ", EigenVersionNumber() / 10000, ".",
                                     EigenVersionNumber() / 100 % 100, ".",
                                     EigenVersionNumber() % 100, " (AVX-512) for float64")
                      : "Eigen not used (no AVX-512)",
      "; --gemm_library=",
      setting[static_cast<int>(configured_library.load(std::memory_order_relaxed))]);
}

template <typename T>
void Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc, const RowBlockEpilogue& epilogue) {
  // Inside another kernel's ranges: this thread alone.
  const int threads = runtime::InParallelFor() ? 1 : runtime::IntraOpThreads();
  const RowBlockEpilogue* after = epilogue ? &epilogue : nullptr;
  if (ChooseLibrary<T>({sizeof(T), ta, tb, m, n, k, threads}, alpha, a, lda, beta, b, ldb) ==
      kAlternative<T>) {
    InBlocks(Alternative<T>, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, after);
    return;
  }
  InBlocks(OpenBlas<T>, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads, after);
}

template void Gemm(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                   const float*, int64_t, float, float*, int64_t, const RowBlockEpilogue&);
template void Gemm(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                   const double*, int64_t, double, double*, int64_t, const RowBlockEpilogue&);

}  // namespace tensord::cpu
