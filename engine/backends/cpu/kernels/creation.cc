// CPU kernels of the ops declared in engine/ops/defs/creation.cc.
#include "engine/ops/defs/creation.h"

#include <cmath>
#include <cstring>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/elementwise.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;            // NOLINT: the ops these kernels run
using namespace ::tensord::ops::creation;  // NOLINT

class ShapeKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Shape& shape = in[0]->shape();
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt64, {static_cast<int64_t>(shape.size())}));
    std::copy(shape.begin(), shape.end(), out[0]->data<int64_t>());
    return absl::OkStatus();
  }
};

class ShapeIKernel final : public Kernel {
 public:
  explicit ShapeIKernel(int64_t i) : i_(i) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt64, {}));
    *out[0]->data<int64_t>() = in[0]->shape()[i_];
    return absl::OkStatus();
  }

 private:
  int64_t i_;
};

class MakeVectorKernel final : public Kernel {
 public:
  explicit MakeVectorKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const int64_t n = static_cast<int64_t>(in.size());
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n}));
    const size_t size = DTypeSize(dtype_);
    char* dst = static_cast<char*>(out[0]->raw());
    for (int64_t k = 0; k < n; ++k) std::memcpy(dst + k * size, in[k]->raw(), size);
    return absl::OkStatus();
  }

 private:
  DType dtype_;
};

class ArangeKernel final : public Kernel {
 public:
  explicit ArangeKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Number start, ReadNumber(*in[0]));
    TENSORD_ASSIGN_OR_RETURN(Number stop, ReadNumber(*in[1]));
    TENSORD_ASSIGN_OR_RETURN(Number step, ReadNumber(*in[2]));
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ArangeLength(start, stop, step));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n}));
    return DispatchAll(dtype_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      if (n == 0) return absl::OkStatus();
      // As NumPy's fill: the first two values come from start and start + step, then
      // value[i] = value[0] + i * (value[1] - value[0]) in the output dtype.
      const bool ints = start.is_int && step.is_int;
      const T v0 = ints ? static_cast<T>(start.i) : static_cast<T>(start.d);
      const T v1 = ints ? static_cast<T>(start.i + step.i) : static_cast<T>(start.d + step.d);
      if constexpr (std::is_floating_point_v<T>) {
        const T delta = v1 - v0;
        for (int64_t i = 0; i < n; ++i) dst[i] = v0 + static_cast<T>(i) * delta;
      } else {
        const int64_t delta = static_cast<int64_t>(static_cast<T>(v1 - v0));
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(v0 + i * delta);
      }
      if (n > 1) dst[1] = v1;
      return absl::OkStatus();
    });
  }

 private:
  DType dtype_;
};

class EyeKernel final : public Kernel {
 public:
  explicit EyeKernel(DType dtype) : dtype_(dtype) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ReadInt(*in[0], "eye: n"));
    TENSORD_ASSIGN_OR_RETURN(int64_t m, ReadInt(*in[1], "eye: m"));
    TENSORD_ASSIGN_OR_RETURN(int64_t k, ReadInt(*in[2], "eye: k"));
    if (n < 0 || m < 0) {
      return InvalidArgument("eye: negative dimensions are not allowed (n=", n, ", m=", m, ")");
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype_, {n, m}));
    return DispatchAll(dtype_, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      std::fill(dst, dst + n * m, T(0));
      // Only rows whose diagonal element lies in [0, m): n may be huge when m is 0, and i + k
      // must not overflow for a huge k.
      if (k >= m || (k < 0 && -(k + 1) >= n - 1)) return absl::OkStatus();
      const int64_t first = k < 0 ? -k : 0, last = std::min(n, m - k);
      for (int64_t i = first; i < last; ++i) dst[i * m + i + k] = T(1);
      return absl::OkStatus();
    });
  }

 private:
  DType dtype_;
};

template <typename K>
MakeKernelFn WithDType() {
  return [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
    return std::unique_ptr<Kernel>(new K(dtype));
  };
}

}  // namespace

void RegisterCreationKernels(backends::KernelTable& k) {
  k.Add("shape", backends::Make<ShapeKernel>());
  k.Add("shape_i", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(int64_t i, ShapeIndex(node));
    return std::unique_ptr<Kernel>(new ShapeIKernel(i));
  });
  k.Add("make_vector", WithDType<MakeVectorKernel>());
  k.Add("arange", WithDType<ArangeKernel>());
  k.Add("eye", WithDType<EyeKernel>());
}

}  // namespace tensord::cpu
