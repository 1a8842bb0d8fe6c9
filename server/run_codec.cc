#include "server/run_codec.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <string>
#include <utility>

#include "engine/common/status.h"
#include "engine/frontend/proto_convert.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "server/rpc_codec.h"

namespace tensord::server {
namespace {

using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;
using google::protobuf::io::StringOutputStream;
using WireFormat = google::protobuf::internal::WireFormatLite;

// Field numbers of the messages read here (proto/tensord/v1): RunRequest.inputs and .args,
// Value.tensor, Tensor.dtype, .shape, .data; RunResponse.outputs and .profile.
constexpr int kInputs = 3, kArgs = 4;
constexpr int kValueTensor = 1;
constexpr int kDType = 1, kShape = 2, kData = 3;
constexpr int kOutputs = 1, kProfile = 2;

absl::Status Malformed() {
  return InvalidArgument(
      "request could not be decoded as tensord.v1.RunRequest: not a valid protobuf encoding");
}

// Reads the next field's tag as protobuf's parser does (at most 5 bytes, bits past 32 dropped):
// false at the end of the message (the stream always has a limit: the request's length, or the
// enclosing field's) and at a tag protobuf refuses (longer, or 0), which sets *bad. After the
// loop, the message ended well when !*bad.
bool NextTag(CodedInputStream& in, uint32_t* tag, bool* bad) {
  if (in.BytesUntilLimit() == 0) return false;
  const int before = in.CurrentPosition();
  uint64_t value;
  *bad = !in.ReadVarint64(&value) || in.CurrentPosition() - before > 5 ||
         static_cast<uint32_t>(value) == 0;
  *tag = static_cast<uint32_t>(value);
  return !*bad;
}

// Reads a length-delimited field's length and limits the stream to it: false when the length is
// malformed or runs past the enclosing message (protobuf refuses both).
bool PushLength(CodedInputStream& in, CodedInputStream::Limit* limit) {
  int length;
  if (!in.ReadVarintSizeAsInt(&length) || length > in.BytesUntilLimit()) return false;
  *limit = in.PushLimit(length);
  return true;
}

// Enters a nested message as protobuf's parser does: each level takes one of its 100.
bool Nest(CodedInputStream& in, CodedInputStream::Limit* limit) {
  return in.IncrementRecursionDepth() && PushLength(in, limit);
}
void Unnest(CodedInputStream& in, CodedInputStream::Limit limit) {
  in.PopLimit(limit);
  in.DecrementRecursionDepth();
}

void AppendTag(uint32_t tag, std::string* out) {
  StringOutputStream stream(out);  // appends
  CodedOutputStream(&stream).WriteTag(tag);
}

// Copies the field whose tag was just read, tag included, to `out`: what this decoder leaves to
// protobuf. A group's fields are walked here, their tags read by NextTag: WireFormatLite's
// skipper reads tags of up to 10 bytes, which protobuf's parser refuses (libFuzzer found it).
bool SetAside(CodedInputStream& in, uint32_t tag, std::string* out) {
  if (WireFormat::GetTagWireType(tag) != WireFormat::WIRETYPE_START_GROUP) {
    StringOutputStream stream(out);
    CodedOutputStream copy(&stream);
    return WireFormat::SkipField(&in, tag, &copy);
  }
  if (!in.IncrementRecursionDepth()) return false;
  AppendTag(tag, out);
  uint32_t inner;
  bool bad = false;
  while (NextTag(in, &inner, &bad)) {
    if (WireFormat::GetTagWireType(inner) == WireFormat::WIRETYPE_END_GROUP) {
      if (WireFormat::GetTagFieldNumber(inner) != WireFormat::GetTagFieldNumber(tag)) return false;
      AppendTag(inner, out);
      in.DecrementRecursionDepth();
      return true;
    }
    if (!SetAside(in, inner, out)) return false;
  }
  return false;  // the message ended inside the group
}

// A Tensor message (the stream limited to it) into `tensor`, and where its data lies into *data
// when left in the request's bytes (see RunCall).
absl::Status DecodeTensor(CodedInputStream& in, const RunCall& call, v1::Tensor* tensor,
                          std::optional<WireBytes>* data) {
  std::string rest;
  // What the data's layout was read as, to see that no later field changed it.
  int dtype = 0;
  std::vector<int64_t> shape;
  uint32_t tag;
  bool bad = false;
  while (NextTag(in, &tag, &bad)) {
    const int field = WireFormat::GetTagFieldNumber(tag);
    const auto wire = WireFormat::GetTagWireType(tag);
    if (field == kDType && wire == WireFormat::WIRETYPE_VARINT) {
      uint64_t value;
      if (!in.ReadVarint64(&value)) return Malformed();
      tensor->set_dtype(static_cast<v1::DType>(static_cast<int32_t>(value)));
    } else if (field == kShape && wire == WireFormat::WIRETYPE_VARINT) {
      uint64_t d;
      if (!in.ReadVarint64(&d)) return Malformed();
      tensor->add_shape(static_cast<int64_t>(d));
    } else if (field == kShape && wire == WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      CodedInputStream::Limit limit;
      if (!PushLength(in, &limit)) return Malformed();
      while (in.BytesUntilLimit() > 0) {
        uint64_t d;
        if (!in.ReadVarint64(&d)) return Malformed();
        tensor->add_shape(static_cast<int64_t>(d));
      }
      in.PopLimit(limit);
    } else if (field == kData && wire == WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      int length;
      if (!in.ReadVarintSizeAsInt(&length) || length > in.BytesUntilLimit()) return Malformed();
      data->reset();
      tensor->clear_data();
      auto layout = ir::CheckWireLayout(tensor->dtype(), tensor->shape());
      if (layout.ok() && layout->bytes == static_cast<size_t>(length)) {
        *data = WireBytes{in.CurrentPosition(), length};
        dtype = tensor->dtype();
        shape.assign(tensor->shape().begin(), tensor->shape().end());
        if (!in.Skip(length)) return Malformed();
      } else if (!in.ReadString(tensor->mutable_data(), length)) {
        return Malformed();
      }
    } else if (!SetAside(in, tag, &rest)) {
      return Malformed();
    }
  }
  if (bad) return Malformed();
  if (!rest.empty()) {  // fields of no known number, or known numbers in another wire type
    TENSORD_RETURN_IF_ERROR(DecodeRequestPart(rest, tensor, in.RecursionBudget()));
  }
  // A dtype or shape given again after the data changes what the bytes mean: put them in the
  // message, whose checks name the mismatch.
  if (data->has_value() &&
      (dtype != tensor->dtype() ||
       !std::equal(shape.begin(), shape.end(), tensor->shape().begin(), tensor->shape().end()))) {
    std::string* bytes = tensor->mutable_data();
    bytes->resize((*data)->length);
    call.CopyData(**data, bytes->data());
    data->reset();
  }
  return absl::OkStatus();
}

// A Value message: its tensor as DecodeTensor reads one, any other kind by protobuf.
absl::Status DecodeValue(CodedInputStream& in, const RunCall& call, v1::Value* value,
                         std::optional<WireBytes>* data) {
  std::string rest;
  // The other kinds set aside so far, merged before a tensor that follows them: of a oneof's
  // fields the last on the wire wins.
  auto merge_rest = [&]() -> absl::Status {
    if (rest.empty()) return absl::OkStatus();
    TENSORD_RETURN_IF_ERROR(DecodeRequestPart(rest, value, in.RecursionBudget()));
    rest.clear();
    if (!value->has_tensor()) data->reset();  // another kind replaced the tensor, data and all
    return absl::OkStatus();
  };
  uint32_t tag;
  bool bad = false;
  while (NextTag(in, &tag, &bad)) {
    if (WireFormat::GetTagFieldNumber(tag) == kValueTensor &&
        WireFormat::GetTagWireType(tag) == WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      TENSORD_RETURN_IF_ERROR(merge_rest());
      CodedInputStream::Limit limit;
      if (!Nest(in, &limit)) return Malformed();
      // A message field seen again merges into what came before (protobuf's rule).
      TENSORD_RETURN_IF_ERROR(DecodeTensor(in, call, value->mutable_tensor(), data));
      Unnest(in, limit);
    } else if (!SetAside(in, tag, &rest)) {
      return Malformed();
    }
  }
  if (bad) return Malformed();
  TENSORD_RETURN_IF_ERROR(merge_rest());  // a later kind of the oneof replaces the tensor
  if (!value->has_tensor()) data->reset();
  return absl::OkStatus();
}

void AppendVarint(uint64_t value, std::string* out) {
  char bytes[10];
  int n = 0;
  do {
    bytes[n++] = static_cast<char>((value & 0x7F) | (value > 0x7F ? 0x80 : 0));
    value >>= 7;
  } while (value != 0);
  out->append(bytes, n);
}

size_t VarintSize(uint64_t value) { return CodedOutputStream::VarintSize64(value); }

void AppendKey(int field, std::string* out) {
  AppendVarint(WireFormat::MakeTag(field, WireFormat::WIRETYPE_LENGTH_DELIMITED), out);
}

// A length-delimited field of `length` bytes, key and length included.
size_t FieldSize(size_t length) { return 1 + VarintSize(length) + length; }

// The encoded sizes of an output whose bytes come from a tensor: its Tensor message with the
// data field, and the Value holding that.
struct SplicedSizes {
  size_t tensor;
  size_t value;
};
SplicedSizes SizesOf(const v1::Value& value, const runtime::Tensor& data) {
  const size_t tensor = value.tensor().ByteSizeLong() + FieldSize(data.num_bytes());
  return {tensor, FieldSize(tensor)};
}

}  // namespace

absl::Status DecodeRequest(const grpc::ByteBuffer& bytes, RunCall* call) {
  std::vector<grpc::Slice> slices;
  if (!bytes.Dump(&slices).ok()) return InvalidArgument("request could not be read");
  int64_t start = 0;
  for (grpc::Slice& slice : slices) {
    call->slice_starts.push_back(start);
    start += static_cast<int64_t>(slice.size());
    call->slices.push_back(std::move(slice));
  }
  grpc::ByteBuffer copy(bytes);  // the reader needs a mutable buffer; slices are shared
  grpc::ProtoBufferReader reader(&copy);
  if (!reader.status().ok()) {
    return InvalidArgument("request could not be read: ", reader.status().error_message());
  }
  if (bytes.Length() > static_cast<size_t>(INT_MAX)) return Malformed();
  CodedInputStream in(&reader);
  in.SetTotalBytesLimit(INT_MAX);  // gRPC's max message size already bounds the request
  in.PushLimit(static_cast<int>(bytes.Length()));  // so that every length is checked against it
  std::string rest;
  uint32_t tag;
  bool bad = false;
  while (NextTag(in, &tag, &bad)) {
    const int field = WireFormat::GetTagFieldNumber(tag);
    if ((field == kInputs || field == kArgs) &&
        WireFormat::GetTagWireType(tag) == WireFormat::WIRETYPE_LENGTH_DELIMITED) {
      CodedInputStream::Limit limit;
      if (!Nest(in, &limit)) return Malformed();
      std::optional<WireBytes> data;
      if (field == kInputs) {
        TENSORD_RETURN_IF_ERROR(DecodeTensor(in, *call, call->message.add_inputs(), &data));
        call->input_data.push_back(data);
      } else {
        TENSORD_RETURN_IF_ERROR(DecodeValue(in, *call, call->message.add_args(), &data));
        call->arg_data.push_back(data);
      }
      Unnest(in, limit);
    } else if (!SetAside(in, tag, &rest)) {
      return Malformed();
    }
  }
  if (bad) return Malformed();
  if (!rest.empty()) {
    TENSORD_RETURN_IF_ERROR(DecodeRequestPart(rest, &call->message, in.RecursionBudget()));
  }
  return absl::OkStatus();
}

void RunCall::CopyData(const WireBytes& bytes, void* to) const {
  auto* out = static_cast<char*>(to);
  int64_t at = bytes.offset;
  int64_t left = bytes.length;
  // The last slice starting at or before `at`.
  size_t i =
      std::upper_bound(slice_starts.begin(), slice_starts.end(), at) - slice_starts.begin() - 1;
  while (left > 0) {
    const int64_t in_slice = at - slice_starts[i];
    const int64_t n = std::min<int64_t>(left, static_cast<int64_t>(slices[i].size()) - in_slice);
    std::memcpy(out, slices[i].begin() + in_slice, n);
    out += n;
    at += n;
    left -= n;
    ++i;
  }
}

absl::StatusOr<runtime::Tensor> RunCall::TensorOf(const v1::Tensor& proto,
                                                  const std::optional<WireBytes>& data) const {
  if (!data.has_value()) return ir::TensorFromProto(proto);
  // The decoder checked the layout against the byte count.
  TENSORD_ASSIGN_OR_RETURN(ir::WireLayout layout,
                           ir::CheckWireLayout(proto.dtype(), proto.shape()));
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor t,
                           runtime::Tensor::Allocate(layout.dtype, layout.shape));
  CopyData(*data, t.raw());
  TENSORD_RETURN_IF_ERROR(ir::CheckWireElements(t));
  return t;
}

absl::Status CheckEnumFields(const RunCall& call) { return CheckEnumFields(call.message); }

int64_t RunReply::ByteSize() const {
  size_t total = 0;
  for (int i = 0; i < message.outputs_size(); ++i) {
    const v1::Value& value = message.outputs(i);
    const bool spliced = i < static_cast<int>(output_data.size()) && output_data[i].has_value();
    total += FieldSize(spliced ? SizesOf(value, *output_data[i]).value : value.ByteSizeLong());
  }
  if (message.has_profile()) total += FieldSize(message.profile().ByteSizeLong());
  return static_cast<int64_t>(total);
}

absl::Status EncodeResponse(const RunReply& reply, grpc::ByteBuffer* bytes) {
  std::vector<grpc::Slice> slices;
  std::string head;  // the encoded bytes since the last tensor's
  auto end_head = [&] {
    if (!head.empty()) slices.emplace_back(head);
    head.clear();
  };
  const v1::RunResponse& message = reply.message;
  for (int i = 0; i < message.outputs_size(); ++i) {
    const v1::Value& value = message.outputs(i);
    const bool spliced =
        i < static_cast<int>(reply.output_data.size()) && reply.output_data[i].has_value();
    if (!spliced) {
      AppendKey(kOutputs, &head);
      AppendVarint(value.ByteSizeLong(), &head);
      value.AppendToString(&head);
      continue;
    }
    const runtime::Tensor& data = *reply.output_data[i];
    const SplicedSizes sizes = SizesOf(value, data);
    AppendKey(kOutputs, &head);
    AppendVarint(sizes.value, &head);
    AppendKey(kValueTensor, &head);
    AppendVarint(sizes.tensor, &head);
    value.tensor().AppendToString(&head);  // dtype and shape (its data is empty)
    AppendKey(kData, &head);
    AppendVarint(data.num_bytes(), &head);
    if (data.num_bytes() == 0) continue;
    end_head();
    // The slice owns a reference to the tensor's buffer until gRPC has sent it.
    auto* held = new runtime::Tensor(data);
    slices.emplace_back(
        held->raw(), held->num_bytes(),
        [](void* tensor) { delete static_cast<runtime::Tensor*>(tensor); }, held);
  }
  if (message.has_profile()) {
    AppendKey(kProfile, &head);
    AppendVarint(message.profile().ByteSizeLong(), &head);
    message.profile().AppendToString(&head);
  }
  end_head();
  *bytes = grpc::ByteBuffer(slices.data(), slices.size());
  return absl::OkStatus();
}

}  // namespace tensord::server
