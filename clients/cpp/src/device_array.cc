// DeviceArray: a handle on a Run output the server keeps on a device, freed with its last copy.
#include <atomic>

#include "src/rpc.h"
#include "tensord/client.h"

namespace tensord::client {

namespace v1 = ::tensord::v1;

struct DeviceArray::State {
  std::shared_ptr<internal::SessionCore> core;
  v1::TensorRef ref;
  std::atomic<bool> released{false};

  absl::Status Release(std::chrono::milliseconds timeout) {
    if (released.exchange(true)) return absl::OkStatus();
    if (absl::Status s = core->CheckOpen(); !s.ok()) return s;
    v1::ReleaseRefsRequest request;
    request.set_session_id(core->session_id);
    request.add_ids(ref.id());
    v1::ReleaseRefsResponse response;
    absl::Status s = internal::Call(*core->stub, &v1::Compute::Stub::ReleaseRefs, request,
                                    &response, timeout, core->options.token, core->routing_key);
    if (!s.ok()) released = false;  // still held: a later Release may retry
    return s;
  }

  // Best effort, bounded by cleanup_timeout: a closed session has freed it already.
  ~State() {
    if (core != nullptr && core->CheckOpen().ok()) {
      Release(core->options.cleanup_timeout).IgnoreError();
    }
  }
};

DeviceArray::DeviceArray(std::shared_ptr<internal::SessionCore> core, v1::TensorRef ref)
    : state_(std::make_shared<State>()) {  // built in place: a State's destructor releases
  state_->core = std::move(core);
  state_->ref = std::move(ref);
}

const std::string& DeviceArray::id() const { return state_->ref.id(); }
const std::string& DeviceArray::context() const { return state_->ref.context(); }
DType DeviceArray::dtype() const { return state_->ref.dtype(); }
std::vector<int64_t> DeviceArray::shape() const {
  return {state_->ref.shape().begin(), state_->ref.shape().end()};
}

absl::StatusOr<HostTensor> DeviceArray::Fetch() const {
  v1::FetchRefRequest request;
  request.set_id(state_->ref.id());
  v1::FetchRefResponse response;
  absl::Status s =
      internal::SessionCall(*state_->core, &v1::Compute::Stub::FetchRef, request, &response);
  if (!s.ok()) return s;
  return HostTensor::FromProto(std::move(*response.mutable_value()));
}

absl::Status DeviceArray::Release() { return state_->Release(state_->core->options.call_timeout); }

}  // namespace tensord::client
