// CPU kernels of the ops declared in engine/ops/defs/grad_ops.cc.

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/node_builder.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

class SumToLikeKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& g = *in[0];
    const runtime::Shape& model = in[1]->shape();
    const int lead = g.ndim() - static_cast<int>(model.size());
    axes_.clear();
    for (int d = 0; d < g.ndim(); ++d) {
      if (d < lead) {
        axes_.push_back(d);
        continue;
      }
      int64_t m = model[d - lead];
      if (m == g.shape()[d]) continue;
      if (m != 1) {
        return InvalidArgument("sum_to_like: a gradient of shape ", runtime::ShapeString(g.shape()),
                               " cannot come from broadcasting shape ",
                               runtime::ShapeString(model));
      }
      axes_.push_back(d);
    }
    if (axes_.empty()) {
      *out[0] = g;  // nothing was broadcast: a view
      return absl::OkStatus();
    }
    TENSORD_RETURN_IF_ERROR(SumOverAxes(g, axes_, *out[0]));
    // The reduced dims come back as size 1 (and leading dims go): same elements in C order.
    *out[0] = out[0]->View(model);
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> axes_;  // reused across runs
};

class IdentityKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    *out[0] = *in[0];
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterGradOpKernels(backends::KernelTable& k) {
  k.Add("sum_to_like", backends::Make<SumToLikeKernel>());
  k.Add("disconnected_grad", backends::Make<IdentityKernel>());
  k.Add("zero_grad", backends::Make<IdentityKernel>());
  k.Add("grad_clip", backends::Make<IdentityKernel>());
  k.Add("print", backends::Make<IdentityKernel>());
}

}  // namespace tensord::cpu
