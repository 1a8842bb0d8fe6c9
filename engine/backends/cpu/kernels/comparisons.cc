// CPU kernels of the ops declared in engine/ops/defs/comparisons.cc.

#include "engine/backends/cpu/broadcast_map.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/elementwise_decl.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

class IscloseKernel final : public Kernel {
 public:
  IscloseKernel(double rtol, double atol, bool equal_nan)
      : rtol_(rtol), atol_(atol), equal_nan_(equal_nan) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return DispatchFloat(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T rtol = static_cast<T>(rtol_), atol = static_cast<T>(atol_);
      const bool equal_nan = equal_nan_;
      // NumPy's formula: infinities are close only to themselves (via x == y).
      return BroadcastMap<bool, T, T>(in, DType::kBool, *out[0], [=](T x, T y) {
        bool close = (std::fabs(x - y) <= atol + rtol * std::fabs(y) && std::isfinite(y)) || x == y;
        return close || (equal_nan && std::isnan(x) && std::isnan(y));
      });
    });
  }

 private:
  double rtol_, atol_;
  bool equal_nan_;
};

absl::StatusOr<std::unique_ptr<Kernel>> MakeIscloseKernel(const ir::Apply& node) {
  double rtol = 1e-5, atol = 1e-8;
  bool equal_nan = false;
  if (node.attrs.count("rtol")) {
    TENSORD_ASSIGN_OR_RETURN(rtol, ir::GetAttr<double>(node, "rtol"));
  }
  if (node.attrs.count("atol")) {
    TENSORD_ASSIGN_OR_RETURN(atol, ir::GetAttr<double>(node, "atol"));
  }
  if (node.attrs.count("equal_nan")) {
    TENSORD_ASSIGN_OR_RETURN(equal_nan, ir::GetAttr<bool>(node, "equal_nan"));
  }
  return std::unique_ptr<Kernel>(new IscloseKernel(rtol, atol, equal_nan));
}

}  // namespace

void RegisterComparisonKernels(backends::KernelTable& k) { k.Add("isclose", MakeIscloseKernel); }

}  // namespace tensord::cpu
