// Fuzz target: bytes -> the Run request decoder (server/run_codec.h), which leaves tensor bytes
// in the request for the run to copy into tensors instead of leaving the parse to protobuf. It
// must agree with protobuf: whatever protobuf parses, it parses too, into the same message once
// the bytes it left in place are put back, and it refuses whatever protobuf refuses. Any crash,
// sanitizer report or disagreement is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/runtime/tensor.h"
#include "google/protobuf/util/message_differencer.h"
#include "server/rpc_codec.h"
#include "server/run_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    tensord::server::InstallProtobufLogHandler();
    tensord::runtime::SetMaxTensorBytes(1 << 20);
    return true;
  }();
  (void)init;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  // gRPC hands a message over in slices: cut it where the first byte says.
  const size_t slice = size == 0 ? 1 : 1 + data[0] % 61;
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < size; at += slice) {
    slices.emplace_back(bytes.data() + at, std::min(slice, size - at));
  }
  tensord::server::RunCall call;
  absl::Status decoded =
      tensord::server::DecodeRequest(grpc::ByteBuffer(slices.data(), slices.size()), &call);
  if (decoded.code() == absl::StatusCode::kInternal) std::abort();
  tensord::v1::RunRequest expected;
  const bool parsed = expected.ParseFromString(bytes);
  if (parsed != decoded.ok()) std::abort();  // both refuse it, or both take it
  if (!parsed) return 0;
  // The data left in the request, copied out as a run would (within the tensor size limit).
  auto put_back = [&](const std::optional<tensord::server::WireBytes>& at, tensord::v1::Tensor* m) {
    if (!at.has_value()) return;
    std::string data(static_cast<size_t>(at->length), '\0');
    call.CopyData(*at, data.data());
    if (auto t = call.TensorOf(*m, at); t.ok()) {
      if (std::string(static_cast<const char*>(t->raw()), t->num_bytes()) != data) std::abort();
    } else if (t.status().code() != absl::StatusCode::kResourceExhausted &&
               t.status().code() != absl::StatusCode::kInvalidArgument) {
      std::abort();  // over --max_tensor_bytes, or a bool that is not 0 or 1: what else is wrong?
    }
    m->set_data(std::move(data));
  };
  tensord::v1::RunRequest rebuilt = call.message;
  if (call.input_data.size() != static_cast<size_t>(rebuilt.inputs_size()) ||
      call.arg_data.size() != static_cast<size_t>(rebuilt.args_size())) {
    std::abort();
  }
  for (int i = 0; i < rebuilt.inputs_size(); ++i)
    put_back(call.input_data[i], rebuilt.mutable_inputs(i));
  for (int i = 0; i < rebuilt.args_size(); ++i) {
    if (rebuilt.args(i).has_tensor()) {
      put_back(call.arg_data[i], rebuilt.mutable_args(i)->mutable_tensor());
    } else if (call.arg_data[i].has_value()) {
      std::abort();
    }
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(rebuilt, expected)) std::abort();
  return 0;
}
