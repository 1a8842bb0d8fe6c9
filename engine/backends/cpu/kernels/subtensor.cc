// CPU kernels of the ops declared in engine/ops/defs/subtensor.cc.

#include "engine/ops/defs/subtensor.h"

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/indexing.h"
#include "engine/backends/cpu/kernels/register.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

using indexing::BasicView;
using subtensor::Entry;

class SubtensorKernel final : public Kernel {
 public:
  explicit SubtensorKernel(std::vector<Entry> entries) : entries_(std::move(entries)) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(*out[0], BasicView(*in[0], entries_, in));
    return absl::OkStatus();
  }

 private:
  std::vector<Entry> entries_;
};

class IncSubtensorKernel final : public Kernel {
 public:
  IncSubtensorKernel(std::vector<Entry> entries, bool set)
      : entries_(std::move(entries)), set_(set) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    // Index errors must come before the copy is written, but the view has to be of the copy:
    // resolving twice is cheap (a few integers per dim).
    TENSORD_RETURN_IF_ERROR(BasicView(*in[0], entries_, in).status());
    TENSORD_RETURN_IF_ERROR(indexing::CopyInto(*in[0], *out[0]));
    TENSORD_ASSIGN_OR_RETURN(Tensor view, BasicView(*out[0], entries_, in));
    return indexing::AssignInto(view, *in[1], set_);
  }

 private:
  std::vector<Entry> entries_;
  bool set_;
};

}  // namespace

void RegisterSubtensorKernels(backends::KernelTable& k) {
  k.Add("subtensor", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 1, false));
    return std::unique_ptr<Kernel>(new SubtensorKernel(std::move(entries)));
  });
  k.Add("inc_subtensor", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, 2, false));
    TENSORD_ASSIGN_OR_RETURN(bool set, subtensor::SetInsteadOfInc(node));
    return std::unique_ptr<Kernel>(new IncSubtensorKernel(std::move(entries), set));
  });
}

}  // namespace tensord::cpu
