// CPU kernels of the ops declared in engine/ops/defs/ifelse.cc.

#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

class IfElseKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    bool take_then = false;
    TENSORD_RETURN_IF_ERROR(DispatchAll(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      take_then = in[0]->data<T>()[0] != T{};  // NaN is true, as bool(nan) in Python
      return absl::OkStatus();
    }));
    const size_t n = out.size();
    for (size_t i = 0; i < n; ++i) *out[i] = *in[1 + (take_then ? i : n + i)];
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterIfElseKernels(backends::KernelTable& k) {
  k.Add("ifelse", [](const ir::Apply&) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new IfElseKernel());
  });
}

}  // namespace tensord::cpu
