#include "engine/backends/cuda/provider/shape_kernels.h"

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/provider.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/creation.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

// reshape and flatten: the host's kernel makes the view (a reshape's shape is on the host); a
// value not laid out contiguously is first copied so on the device.
class ReshapeKernel final : public backends::Kernel {
 public:
  ReshapeKernel(const ir::Apply& node, std::shared_ptr<DeviceRuntime> device)
      : op_(node.op),
        pack_(node.inputs[0]->type.dtype, node.inputs[0]->type.dtype, false),
        device_(std::move(device)) {}

  absl::Status Init(const ir::Apply& node) {
    TENSORD_ASSIGN_OR_RETURN(view_, cpu::MakeNodeKernel(node));
    return absl::OkStatus();
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k]->host_accessible()) return Internal(op_, "'s shape is on a device");
    }
    if (in[0]->is_contiguous()) return view_->Run(in, out);
    TENSORD_ASSIGN_OR_RETURN(Tensor packed, Packed(pack_, *device_, *in[0]));
    absl::InlinedVector<const Tensor*, 2> view_in(in.begin(), in.end());
    view_in[0] = &packed;
    return view_->Run(view_in, out);
  }

 private:
  const std::string op_;
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
  std::unique_ptr<backends::Kernel> view_;
};

// A view the host's kernel makes from metadata alone (subtensor: basic indexing), its index
// scalars (inputs 1 on) read on the host: it touches no element of the device's value.
class HostViewKernel final : public backends::Kernel {
 public:
  explicit HostViewKernel(std::unique_ptr<backends::Kernel> view) : view_(std::move(view)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k]->host_accessible()) return Internal("an index of a view is on a device");
    }
    return view_->Run(in, out);
  }

 private:
  std::unique_ptr<backends::Kernel> view_;
};

// arange: its bounds read on the host (inputs 0-2), its values made on the device as the host
// makes them (NumPy's fill: value[0] and value[1] from start and start + step, then
// value[0] + i * (value[1] - value[0])).
class ArangeKernel final : public backends::Kernel {
 public:
  ArangeKernel(DType dtype, std::shared_ptr<DeviceRuntime> device)
      : dtype_(dtype), kernel_(Source(dtype), {"tensord_arange"}), device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    ops::creation::Number bounds[3];
    for (int k = 0; k < 3; ++k) {
      if (!in[k]->host_accessible()) return Internal("arange's bounds are on a device");
      TENSORD_ASSIGN_OR_RETURN(bounds[k], ops::creation::ReadNumber(*in[k]));
    }
    const auto& [start, stop, step] = bounds;
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ops::creation::ArangeLength(start, stop, step));
    Tensor& y = *out[0];
    TENSORD_RETURN_IF_ERROR(y.Reshape(dtype_, {n}));
    if (n == 0) return absl::OkStatus();
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernel_.Get(*device_));
    const bool ints = start.is_int && step.is_int;
    auto launch = [&](auto v0, auto v1, auto delta) {
      void* y_data = y.raw();
      void* args[] = {&y_data, &n, &v0, &v1, &delta};
      return device_->Launch((*kernels)[0], GridFor(n), kThreads, args);
    };
    auto values = [&](auto tag) {  // v0, v1 in the output dtype, as the host's kernel has them
      using T = decltype(tag);
      const T v0 = ints ? static_cast<T>(start.i) : static_cast<T>(start.d);
      const T v1 = ints ? static_cast<T>(start.i + step.i) : static_cast<T>(start.d + step.d);
      return std::pair<T, T>{v0, v1};
    };
    switch (dtype_) {
      case DType::kFloat32: {
        auto [v0, v1] = values(float{});
        return launch(v0, v1, v1 - v0);
      }
      case DType::kFloat64: {
        auto [v0, v1] = values(double{});
        return launch(v0, v1, v1 - v0);
      }
      case DType::kInt32: {
        auto [v0, v1] = values(int32_t{});
        return launch(v0, v1, static_cast<long long>(static_cast<int32_t>(v1 - v0)));
      }
      case DType::kInt64: {
        auto [v0, v1] = values(int64_t{});
        return launch(v0, v1, static_cast<long long>(v1 - v0));
      }
      default:
        return Unimplemented("arange of ", DTypeName(dtype_), " on a GPU");
    }
  }

 private:
  // tensord_arange(T* out, long long n, T v0, T v1, D delta), D being T for floats and long long
  // for integers, as the host's kernel computes in each.
  static std::string Source(DType dtype) {
    const bool floats = dtype == DType::kFloat32 || dtype == DType::kFloat64;
    return absl::StrCat(
        "typedef ", CudaCType(dtype), " T;\n",
        "extern \"C\" __global__ void tensord_arange(T* out, long long n, T v0, T v1, ",
        floats ? "T" : "long long", " delta) {\n",
        "  const long long step = (long long)blockDim.x * gridDim.x;\n",
        "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += "
        "step)\n",
        "    out[i] = i == 1 ? v1 : ", floats ? "v0 + (T)i * delta" : "(T)(v0 + i * delta)",
        ";\n}\n");
  }

  const DType dtype_;
  KernelsOnce kernel_;
  const std::shared_ptr<DeviceRuntime> device_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeReshapeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  auto kernel = std::make_unique<ReshapeKernel>(node, std::move(device));
  TENSORD_RETURN_IF_ERROR(kernel->Init(node));
  return std::unique_ptr<backends::Kernel>(std::move(kernel));
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeViewKernel(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(std::unique_ptr<backends::Kernel> view, cpu::MakeNodeKernel(node));
  return std::unique_ptr<backends::Kernel>(new HostViewKernel(std::move(view)));
}

std::unique_ptr<backends::Kernel> MakeArangeKernel(DType dtype,
                                                   std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<ArangeKernel>(dtype, std::move(device));
}

}  // namespace tensord::cuda
