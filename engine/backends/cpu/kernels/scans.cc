// CPU kernels of the ops declared in engine/ops/defs/scans.cc.
#include <string>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

class ScanKernel final : public Kernel {
 public:
  explicit ScanKernel(ScanAttrs attrs) : attrs_(attrs) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    const CumopLayout l = MakeCumopLayout(attrs_, x.shape());
    const int64_t outer = l.outer, len = l.len, inner = l.inner;
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), l.shape));
    // Empty: the outer and scanned lengths may still be huge (the loops below would spin).
    if (x.num_elements() == 0) return absl::OkStatus();
    return DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      // Copy into C order, then scan in place: contiguous rows stay cache-friendly for any axis.
      StridedCopy(x.data<T>(), x.strides(), x.shape(), dst);
      if constexpr (std::is_same_v<T, bool>) {
        return Internal("cumop: bool input reached the kernel uncast");
      } else {
        for (int64_t o = 0; o < outer; ++o) {
          T* block = dst + o * len * inner;
          for (int64_t i = 1; i < len; ++i) {
            const T* prev = block + (i - 1) * inner;
            T* cur = block + i * inner;
            if (attrs_.multiply) {
              for (int64_t j = 0; j < inner; ++j) cur[j] = static_cast<T>(prev[j] * cur[j]);
            } else {
              for (int64_t j = 0; j < inner; ++j) cur[j] = static_cast<T>(prev[j] + cur[j]);
            }
          }
        }
        return absl::OkStatus();
      }
    });
  }

 private:
  ScanAttrs attrs_;
};

}  // namespace

void RegisterScanOpKernels(backends::KernelTable& k) {
  k.Add("cumop", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(ScanAttrs a, ParseScanAttrs(node));
    return std::unique_ptr<Kernel>(new ScanKernel(a));
  });
}

}  // namespace tensord::cpu
