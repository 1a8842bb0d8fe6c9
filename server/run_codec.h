// The Run RPC's wire boundary, where big tensors cross: a tensor's bytes are copied from gRPC's
// buffers straight into its tensor buffer (one copy; protobuf's parser would copy them into a
// string first, a fresh allocation whose every page faults), and an output's bytes go into the
// reply as the tensor buffer itself (no copy; held until gRPC has sent them). Everything else
// in the request and reply is decoded and encoded by protobuf, with the same checks and errors
// as every other method (server/rpc_codec.h).
#pragma once

#include <optional>
#include <vector>

#include "engine/runtime/tensor.h"
#include "grpcpp/support/byte_buffer.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// Where a Tensor's data lies in the request's bytes.
struct WireBytes {
  int64_t offset;
  int64_t length;
};

// A decoded RunRequest. Where a Tensor's dtype and shape came before its data and fit its byte
// count (what every client writes), the message's data is empty and `input_data` or `arg_data`
// (indexed like `message.inputs` and `message.args`) says where the bytes lie in the request:
// they are copied once, into a tensor the run allocates in its function's memory context
// (TensorOf). Elsewhere the data stayed in the message, whose checks name what is wrong with it.
struct RunCall {
  static const google::protobuf::Descriptor* descriptor() { return v1::RunRequest::descriptor(); }

  // `proto` with its data at `data` (or in it): checked as ir::TensorFromProto checks one.
  absl::StatusOr<runtime::Tensor> TensorOf(const v1::Tensor& proto,
                                           const std::optional<WireBytes>& data) const;
  void CopyData(const WireBytes& bytes, void* to) const;

  v1::RunRequest message;
  std::vector<std::optional<WireBytes>> input_data;
  std::vector<std::optional<WireBytes>> arg_data;
  // The request's bytes: gRPC's slices (references, not copies) and each one's offset.
  std::vector<grpc::Slice> slices;
  std::vector<int64_t> slice_starts;
};

// A RunResponse to send. An output with a tensor in `output_data` (indexed like
// `message.outputs`) has its dtype and shape in the message and its bytes in that tensor.
struct RunReply {
  static const google::protobuf::Descriptor* descriptor() { return v1::RunResponse::descriptor(); }
  // Outputs at least this large go out as their own buffers; smaller ones are cheaper copied.
  static constexpr size_t kZeroCopyBytes = size_t{1} << 16;

  v1::RunResponse message;
  std::vector<std::optional<runtime::Tensor>> output_data;
  // The encoded reply's size in bytes.
  int64_t ByteSize() const;
};

absl::Status DecodeRequest(const grpc::ByteBuffer& bytes, RunCall* call);
absl::Status CheckEnumFields(const RunCall& call);
// `reply`'s output_data must be C-contiguous.
absl::Status EncodeResponse(const RunReply& reply, grpc::ByteBuffer* bytes);

}  // namespace tensord::server
