// Fuzz target: bytes -> tensord.v1.Tensor -> the tensor decoder (dtype, rank, overflow-checked
// sizes, byte count) and back. Any crash, sanitizer report or INTERNAL status is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/frontend/proto_convert.h"
#include "engine/runtime/tensor.h"
#include "server/rpc_codec.h"
#include "tensord/v1/tensor.pb.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    tensord::server::InstallProtobufLogHandler();
    tensord::runtime::SetMaxTensorBytes(1 << 20);
    return true;
  }();
  (void)init;
  tensord::v1::Tensor proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (!tensord::server::CheckEnumFields(proto).ok()) return 0;
  auto tensor = tensord::ir::TensorFromProto(proto);
  if (!tensor.ok()) {
    if (tensor.status().code() == absl::StatusCode::kInternal) std::abort();
    return 0;
  }
  tensord::v1::Tensor back;
  tensord::ir::TensorToProto(*tensor, &back);
  if (back.data() != proto.data()) std::abort();  // a decoded tensor re-encodes to its bytes
  return 0;
}
