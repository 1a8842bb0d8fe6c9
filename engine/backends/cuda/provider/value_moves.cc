#include "engine/backends/cuda/provider/value_moves.h"

#include <map>
#include <mutex>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/view_writes.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

class DeviceMoves final : public backends::ValueMoves {
 public:
  explicit DeviceMoves(std::shared_ptr<DeviceRuntime> device) : device_(std::move(device)) {}

  absl::Status Copy(const Tensor& src, const Tensor& dst) override {
    return Write(dst.dtype(), src.dtype(), false).Run(*device_, dst, src);
  }

  absl::Status Add(const Tensor& src, const Tensor& dst) override {
    return Write(dst.dtype(), src.dtype(), true).Run(*device_, dst, src);
  }

  absl::Status Zeros(DType dtype, const runtime::Shape& shape, Tensor& out) override {
    TENSORD_RETURN_IF_ERROR(out.Reshape(dtype, shape));
    if (out.num_elements() == 0) return absl::OkStatus();
    if (out.host_accessible()) return Internal("a CUDA fill's output is in host memory");
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, Fill(dtype).Get(*device_));
    void* data = out.raw();
    int64_t n = out.num_elements();
    void* args[] = {&data, &n};
    return device_->Launch((*kernels)[0], GridFor(n), kThreads, args);
  }

  absl::StatusOr<bool> Truthy(const Tensor& t) override {
    TENSORD_ASSIGN_OR_RETURN(Tensor on_host, runtime::OnHost(t));
    return cpu::IsTruthy(on_host);
  }

 private:
  // tensord_zeros(T* out, long long n) for `dtype`, made on first use and kept.
  KernelsOnce& Fill(DType dtype) {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<KernelsOnce>& k = fills_[dtype];
    if (k == nullptr) {
      k = std::make_unique<KernelsOnce>(
          absl::StrCat("typedef ", CudaCType(dtype),
                       " T;\n"
                       "extern \"C\" __global__ void tensord_zeros(T* out, long long n) {\n"
                       "  const long long step = (long long)blockDim.x * gridDim.x;\n"
                       "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x;"
                       " i < n; i += step)\n"
                       "    out[i] = T(0);\n}\n"),
          std::vector<std::string>{"tensord_zeros"});
    }
    return *k;
  }

  // The write of a dtype pair and mode, made on first use and kept.
  StridedWrite& Write(DType to, DType from, bool add) {
    std::lock_guard<std::mutex> lock(mu_);
    std::unique_ptr<StridedWrite>& w = writes_[{to, from, add}];
    if (w == nullptr) w = std::make_unique<StridedWrite>(to, from, add);
    return *w;
  }

  const std::shared_ptr<DeviceRuntime> device_;
  std::mutex mu_;
  std::map<std::tuple<DType, DType, bool>, std::unique_ptr<StridedWrite>> writes_;
  std::map<DType, std::unique_ptr<KernelsOnce>> fills_;
};

}  // namespace

std::unique_ptr<backends::ValueMoves> DeviceValueMoves(std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<DeviceMoves>(std::move(device));
}

}  // namespace tensord::cuda
