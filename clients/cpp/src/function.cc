// Shared and Function: the handles a Session hands out.
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

absl::StatusOr<std::vector<HostTensor>> Function::Run(std::vector<HostTensor> inputs,
                                                      int64_t* run_ns) const {
  // Checked here so a wrong count is reported before megabytes go over the wire.
  if (static_cast<int>(inputs.size()) != response_.input_types_size()) {
    return absl::InvalidArgumentError(absl::StrCat("function ", response_.function_id(), " takes ",
                                                   response_.input_types_size(), " inputs, got ",
                                                   inputs.size()));
  }
  v1::RunRequest request;
  request.set_function_id(response_.function_id());
  for (HostTensor& in : inputs) {
    if (!in.valid()) return absl::InvalidArgumentError("Run: invalid HostTensor input");
    *request.add_inputs() = std::move(in).ToProto();
  }
  v1::RunResponse response;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::Run, request, &response);
  if (!s.ok()) return s;
  std::vector<HostTensor> outputs;
  outputs.reserve(response.outputs_size());
  for (int i = 0; i < response.outputs_size(); ++i) {
    v1::Value& value = *response.mutable_outputs(i);
    if (!value.has_tensor()) {
      return absl::UnimplementedError(
          absl::StrCat("output ", i, " stayed on context '", value.ref().context(), "' as ref ",
                       value.ref().id(), "; the C++ client reads host values only"));
    }
    absl::StatusOr<HostTensor> t = HostTensor::FromProto(std::move(*value.mutable_tensor()));
    if (!t.ok()) return t.status();
    outputs.push_back(*std::move(t));
  }
  if (run_ns) *run_ns = response.profile().run_ns();
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
