// Shared and Function: the handles a Session hands out.
#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"
#include "src/rpc.h"
#include "tensord/client.h"

namespace tensord::client {

namespace v1 = ::tensord::v1;

absl::StatusOr<HostTensor> Shared::GetValue() {
  v1::GetSharedRequest request;
  request.set_id(info_.id());
  v1::GetSharedResponse response;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::GetShared, request, &response);
  if (!s.ok()) return s;
  // Updates applied by Run may have changed the shape; keep the newest info.
  if (response.has_info()) info_ = response.info();
  return HostTensor::FromProto(std::move(*response.mutable_value()));
}

absl::Status Shared::SetValue(HostTensor value) {
  if (!value.valid()) return absl::InvalidArgumentError("SetValue: invalid HostTensor");
  v1::SetSharedRequest request;
  request.set_id(info_.id());
  *request.mutable_value() = std::move(value).ToProto();
  v1::SharedInfo info;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::SetShared, request, &info);
  if (s.ok()) info_ = std::move(info);
  return s;
}

absl::Status Shared::Delete() {
  v1::DeleteSharedRequest request;
  request.set_id(info_.id());
  v1::DeleteSharedResponse response;
  return internal::SessionCall(*core_, &v1::Compute::Stub::DeleteShared, request, &response);
}

absl::StatusOr<std::vector<Value>> Function::Call(std::vector<Value> inputs, int64_t* run_ns,
                                                  const std::vector<ShmSlot>& output_slots) const {
  // Checked here so a wrong count is reported before megabytes go over the wire.
  if (static_cast<int>(inputs.size()) != response_.input_types_size()) {
    return absl::InvalidArgumentError(absl::StrCat("function ", response_.function_id(), " takes ",
                                                   response_.input_types_size(), " inputs, got ",
                                                   inputs.size()));
  }
  v1::RunRequest request;
  request.set_function_id(response_.function_id());
  // Plain `inputs` unless a device array or shared memory needs `args`, so that older servers
  // still understand.
  const bool as_args = std::any_of(inputs.begin(), inputs.end(), [](const Value& v) {
    return !std::holds_alternative<HostTensor>(v);
  });
  for (Value& in : inputs) {
    if (auto* array = std::get_if<DeviceArray>(&in)) {
      request.add_args()->mutable_ref()->set_id(array->id());
      continue;
    }
    if (auto* shm = std::get_if<ShmTensor>(&in)) {
      v1::ShmTensor* arg = request.add_args()->mutable_shm();
      arg->set_region(shm->region);
      arg->set_offset(shm->offset);
      arg->set_dtype(shm->dtype);
      for (int64_t d : shm->shape) arg->add_shape(d);
      continue;
    }
    HostTensor& host = std::get<HostTensor>(in);
    if (!host.valid()) return absl::InvalidArgumentError("Run: invalid HostTensor input");
    *(as_args ? request.add_args()->mutable_tensor() : request.add_inputs()) =
        std::move(host).ToProto();
  }
  for (const ShmSlot& slot : output_slots) {
    v1::ShmSlot* out = request.add_output_slots();
    if (slot.region.empty()) continue;
    out->set_region(slot.region);
    out->set_offset(slot.offset);
    out->set_byte_size(slot.byte_size);
  }
  v1::RunResponse response;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::Run, request, &response);
  if (!s.ok()) return s;
  // Every ref gets its handle first, so that an output failing to decode below cannot leave a
  // device array that nothing will release.
  std::vector<Value> outputs(response.outputs_size());
  for (int i = 0; i < response.outputs_size(); ++i) {
    v1::Value& value = *response.mutable_outputs(i);
    if (value.has_ref()) outputs[i] = DeviceArray(core_, std::move(*value.mutable_ref()));
  }
  for (int i = 0; i < response.outputs_size(); ++i) {
    v1::Value& value = *response.mutable_outputs(i);
    if (value.has_shm()) {
      // Written at the start of the slot this call offered for it.
      const v1::ShmTensor& shm = value.shm();
      const bool offered = i < static_cast<int>(output_slots.size()) &&
                           output_slots[i].region == shm.region() &&
                           output_slots[i].offset == shm.offset();
      if (!offered) {
        return absl::InternalError(absl::StrCat("server wrote output ", i, " into '", shm.region(),
                                                "', a slot this call did not offer"));
      }
      const char* base = output_slots[i].region_data;
      ShmTensor out{shm.region(),
                    shm.offset(),
                    shm.dtype(),
                    std::vector<int64_t>(shm.shape().begin(), shm.shape().end()),
                    base == nullptr ? nullptr : base + shm.offset(),
                    output_slots[i].byte_size};
      if (absl::StatusOr<int64_t> bytes = out.ByteSize(); !bytes.ok()) {
        return absl::InternalError(
            absl::StrCat("server wrote output ", i, " past its slot: ", bytes.status().message()));
      }
      outputs[i] = std::move(out);
      continue;
    }
    if (!value.has_tensor()) continue;
    absl::StatusOr<HostTensor> t = HostTensor::FromProto(std::move(*value.mutable_tensor()));
    if (!t.ok()) return t.status();
    outputs[i] = *std::move(t);
  }
  if (run_ns) *run_ns = response.profile().run_ns();
  return outputs;
}

absl::StatusOr<std::vector<HostTensor>> Function::Run(std::vector<HostTensor> inputs,
                                                      int64_t* run_ns) const {
  absl::StatusOr<std::vector<Value>> values =
      Call(std::vector<Value>(std::make_move_iterator(inputs.begin()),
                              std::make_move_iterator(inputs.end())),
           run_ns);
  if (!values.ok()) return values.status();
  std::vector<HostTensor> outputs;
  outputs.reserve(values->size());
  for (Value& value : *values) {
    if (auto* array = std::get_if<DeviceArray>(&value)) {
      absl::StatusOr<HostTensor> host = array->Fetch();  // the handle frees it when dropped
      if (!host.ok()) return host.status();
      outputs.push_back(*std::move(host));
    } else if (auto* shm = std::get_if<ShmTensor>(&value)) {
      absl::StatusOr<HostTensor> host = shm->ToHost();
      if (!host.ok()) return host.status();
      outputs.push_back(*std::move(host));
    } else {
      outputs.push_back(std::get<HostTensor>(std::move(value)));
    }
  }
  return outputs;
}

absl::StatusOr<v1::DescribeFunctionResponse> Function::Describe() const {
  v1::DescribeFunctionRequest request;
  request.set_function_id(response_.function_id());
  v1::DescribeFunctionResponse response;
  absl::Status s =
      internal::SessionCall(*core_, &v1::Compute::Stub::DescribeFunction, request, &response);
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<std::string> Function::Profile() const {
  v1::GetProfileRequest request;
  request.set_function_id(response_.function_id());
  v1::GetProfileResponse response;
  absl::Status s =
      internal::SessionCall(*core_, &v1::Compute::Stub::GetProfile, request, &response);
  if (!s.ok()) return s;
  return std::move(*response.mutable_summary());
}

absl::Status Function::ResetProfile() {
  v1::ResetProfileRequest request;
  request.set_function_id(response_.function_id());
  v1::ResetProfileResponse response;
  return internal::SessionCall(*core_, &v1::Compute::Stub::ResetProfile, request, &response);
}

absl::Status Function::Release() {
  v1::ReleaseFunctionRequest request;
  request.set_function_id(response_.function_id());
  v1::ReleaseFunctionResponse response;
  return internal::SessionCall(*core_, &v1::Compute::Stub::ReleaseFunction, request, &response);
}

}  // namespace tensord::client
