#include "engine/backends/cuda/device_runtime.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/host_emulation.h"
#include "engine/backends/cuda/nvrtc.h"
#include "engine/common/status.h"

namespace tensord::cuda {
namespace {

class Gpu final : public DeviceRuntime {
 public:
  explicit Gpu(int ordinal) : ordinal_(ordinal) {}

  absl::StatusOr<std::string> Architecture() override { return ComputeArchitecture(ordinal_); }

  absl::StatusOr<std::vector<KernelHandle>> Compile(
      const std::string& source, const std::vector<std::string>& names) override {
    TENSORD_ASSIGN_OR_RETURN(std::string arch, Architecture());
    const NvrtcResult ptx = CompileToPtx(source, "tensord_composite.cu", arch);
    if (!ptx.ok) return Internal("NVRTC could not compile a kernel: ", ptx.log);
    return LoadKernels(ptx.ptx, names);
  }

  absl::Status Launch(KernelHandle kernel, int64_t blocks, int threads, void** args) override {
    return cuda::Launch(kernel, ordinal_, blocks, threads, args);
  }

  absl::StatusOr<DeviceMark> Mark() override {
    TENSORD_ASSIGN_OR_RETURN(EventHandle event, RecordEvent(ordinal_));
    return DeviceMark{event, 0};
  }
  absl::StatusOr<int64_t> ElapsedNs(const DeviceMark& from, const DeviceMark& to) override {
    return EventElapsedNs(from.event, to.event);
  }
  void Release(const DeviceMark& mark) override { DestroyEvent(mark.event); }

  absl::Status Gemm(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                    double beta, void* c, const GemmBatch& batch) override {
    return cuda::Gemm(ordinal_, dtype, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c,
                      batch);
  }

 private:
  const int ordinal_;
};

// c = alpha * op(a) op(b) + beta * c as BLAS defines it (c is not read when beta is 0), in
// double, for each item of the batch, over memory the host reaches (a simulated device's).
template <typename T>
void PlainGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
               const T* a, int64_t lda, const T* b, int64_t ldb, double beta, T* c,
               const GemmBatch& batch) {
  for (int64_t item = 0; item < batch.count; ++item) {
    const T* ai = a + item * batch.stride_a;
    const T* bi = b + item * batch.stride_b;
    T* ci = c + item * batch.stride_c;
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          const double x = trans_a ? ai[p * lda + i] : ai[i * lda + p];
          const double y = trans_b ? bi[j * ldb + p] : bi[p * ldb + j];
          sum += x * y;
        }
        T& out = ci[i * n + j];
        out = static_cast<T>(beta == 0 ? alpha * sum : alpha * sum + beta * out);
      }
    }
  }
}

class Emulated final : public DeviceRuntime {
 public:
  absl::StatusOr<std::string> Architecture() override { return std::string("host"); }

  absl::StatusOr<std::vector<KernelHandle>> Compile(
      const std::string& source, const std::vector<std::string>& names) override {
    TENSORD_ASSIGN_OR_RETURN(std::unique_ptr<HostEmulation> library,
                             HostEmulation::Compile({{source, names}}));
    std::vector<KernelHandle> kernels;
    for (const std::string& name : names) {
      TENSORD_ASSIGN_OR_RETURN(KernelHandle kernel, library->Handle(name));
      kernels.push_back(kernel);
    }
    std::lock_guard<std::mutex> lock(mu_);
    libraries_.push_back(std::move(library));  // its handles live as long as it does
    return kernels;
  }

  absl::Status Launch(KernelHandle kernel, int64_t blocks, int threads, void** args) override {
    return HostEmulation::LaunchHandle(kernel, blocks, threads, args);
  }

  absl::StatusOr<DeviceMark> Mark() override {
    return DeviceMark{nullptr, std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count()};
  }
  absl::StatusOr<int64_t> ElapsedNs(const DeviceMark& from, const DeviceMark& to) override {
    return to.host_ns - from.host_ns;
  }
  void Release(const DeviceMark&) override {}

  absl::Status Gemm(DType dtype, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                    double alpha, const void* a, int64_t lda, const void* b, int64_t ldb,
                    double beta, void* c, const GemmBatch& batch) override {
    // cuBLAS's rules for the leading dimensions (in row-major terms), so that CI, which has no
    // GPU, refuses a call a GPU would refuse.
    const bool empty = m == 0 || n == 0 || k == 0 || batch.count == 0;
    if (!empty && (lda < std::max<int64_t>(1, trans_a ? m : k) ||
                   ldb < std::max<int64_t>(1, trans_b ? k : n))) {
      return Internal("gemm: leading dimensions ", lda, " and ", ldb, " are too small for a ",
                      trans_a ? "transposed " : "", m, "x", k, " a and a ",
                      trans_b ? "transposed " : "", k, "x", n, " b");
    }
    if (dtype == DType::kFloat32) {
      PlainGemm(trans_a, trans_b, m, n, k, alpha, static_cast<const float*>(a), lda,
                static_cast<const float*>(b), ldb, beta, static_cast<float*>(c), batch);
    } else if (dtype == DType::kFloat64) {
      PlainGemm(trans_a, trans_b, m, n, k, alpha, static_cast<const double*>(a), lda,
                static_cast<const double*>(b), ldb, beta, static_cast<double*>(c), batch);
    } else {
      return InvalidArgument("products are float32 or float64");
    }
    return absl::OkStatus();
  }

 private:
  std::mutex mu_;
  std::vector<std::unique_ptr<HostEmulation>> libraries_;
};

}  // namespace

std::shared_ptr<DeviceRuntime> GpuRuntime(int ordinal) {
  static std::mutex mu;
  static auto* runtimes = new std::map<int, std::shared_ptr<DeviceRuntime>>();
  std::lock_guard<std::mutex> lock(mu);
  std::shared_ptr<DeviceRuntime>& runtime = (*runtimes)[ordinal];
  if (runtime == nullptr) runtime = std::make_shared<Gpu>(ordinal);
  return runtime;
}

std::shared_ptr<DeviceRuntime> EmulatedRuntime() {
  static auto* runtime = new std::shared_ptr<DeviceRuntime>(std::make_shared<Emulated>());
  return *runtime;
}

}  // namespace tensord::cuda
