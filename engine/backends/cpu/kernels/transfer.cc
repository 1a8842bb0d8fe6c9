// Kernel of the op declared in engine/ops/defs/transfer.cc: host contexts and simulated devices
// share it (their memories are host memory, accounted apart), and so does the CUDA provider,
// whose memory it reaches through the device's copies (runtime::OnHost / IntoContext).

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/register.h"

namespace tensord::cpu {
namespace {

// A transfer (placement's attributes say between which contexts): the value copied into a
// buffer of the node's context, the bytes counted on the device side of the move.
class TransferKernel final : public Kernel {
 public:
  explicit TransferKernel(const ir::Apply& node) {
    auto to = ir::GetAttr<std::string>(node, "context");
    auto from = ir::GetAttr<std::string>(node, "source");
    using runtime::TransferDirection;
    if (to.ok()) {
      counter_ = runtime::MemoryCounterFor(*to);
      target_ = counter_;
      direction_ =
          from.ok() ? TransferDirection::kDeviceToDevice : TransferDirection::kHostToDevice;
    } else if (from.ok()) {
      counter_ = runtime::MemoryCounterFor(*from);
      direction_ = TransferDirection::kDeviceToHost;
    }
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    // A device array passed as the input already lives on the target (Executable's
    // input_contexts): nothing moves. Aliasing is safe: inplace planning overwrites a buffer
    // only when nothing else holds it, and the session's device-array store does.
    const runtime::Buffer* source = in[0]->buffer().get();
    if (target_ != nullptr && source != nullptr && source->counter() == target_) {
      *out[0] = *in[0];
      return absl::OkStatus();
    }
    runtime::MemoryCounter* here = runtime::CurrentMemoryCounter();  // the target's
    if (in[0]->host_accessible() && runtime::HostWritable(here) == here) {
      *out[0] = Copy(*in[0]);  // host memory on both sides (a simulated device's is)
    } else {  // a GPU's memory on either side: staged on the host, copied by the device
      TENSORD_ASSIGN_OR_RETURN(runtime::Tensor staged, HostContiguous(*in[0]));
      TENSORD_ASSIGN_OR_RETURN(*out[0], runtime::IntoContext(std::move(staged), here));
    }
    if (counter_ != nullptr) counter_->Transferred(direction_, out[0]->num_bytes());
    return absl::OkStatus();
  }

 private:
  runtime::MemoryCounter* counter_ = nullptr;       // null: between host contexts
  const runtime::MemoryCounter* target_ = nullptr;  // the device moved to; null: to the host
  runtime::TransferDirection direction_ = runtime::TransferDirection::kHostToDevice;
};

}  // namespace

void RegisterTransferKernels(backends::KernelTable& k) {
  k.Add("transfer", backends::Make<TransferKernel>());
}

}  // namespace tensord::cpu
