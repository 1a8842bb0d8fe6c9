#include "server/run_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "google/protobuf/text_format.h"
#include "google/protobuf/util/message_differencer.h"

namespace tensord::server {
namespace {

// `bytes` cut into slices of `slice` bytes, as gRPC hands over a large message.
grpc::ByteBuffer Sliced(const std::string& bytes, size_t slice) {
  std::vector<grpc::Slice> slices;
  for (size_t at = 0; at < bytes.size(); at += slice) {
    slices.emplace_back(bytes.data() + at, std::min(slice, bytes.size() - at));
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

std::string Floats(int n, float first) {
  std::string out(n * 4, '\0');
  for (int i = 0; i < n; ++i) {
    float v = first + static_cast<float>(i);
    std::memcpy(&out[i * 4], &v, 4);
  }
  return out;
}

// What protobuf decodes from the request, against the decoder's message with the data it read
// into tensors put back: they must be the same message.
void ExpectDecodesAsProtobufDoes(const std::string& wire, size_t slice = 7) {
  v1::RunRequest expected;
  ASSERT_TRUE(expected.ParseFromString(wire));
  RunCall call;
  absl::Status s = DecodeRequest(Sliced(wire, slice), &call);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(call.input_data.size(), static_cast<size_t>(call.message.inputs_size()));
  ASSERT_EQ(call.arg_data.size(), static_cast<size_t>(call.message.args_size()));
  v1::RunRequest rebuilt = call.message;
  auto put_back = [&](const std::optional<WireBytes>& data, v1::Tensor* tensor) {
    if (!data.has_value()) return;
    EXPECT_TRUE(tensor->data().empty());
    auto t = call.TensorOf(*tensor, data);
    ASSERT_TRUE(t.ok()) << t.status();
    tensor->set_data(static_cast<const char*>(t->raw()), t->num_bytes());
  };
  for (int i = 0; i < rebuilt.inputs_size(); ++i)
    put_back(call.input_data[i], rebuilt.mutable_inputs(i));
  for (int i = 0; i < rebuilt.args_size(); ++i) {
    if (rebuilt.args(i).has_tensor())
      put_back(call.arg_data[i], rebuilt.mutable_args(i)->mutable_tensor());
    else
      EXPECT_FALSE(call.arg_data[i].has_value());
  }
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(rebuilt, expected))
      << rebuilt.DebugString() << "\nvs\n"
      << expected.DebugString();
}

TEST(RunCodec, ReadsTensorBytesStraightIntoTensors) {
  v1::RunRequest req;
  req.set_session_id("s");
  req.set_function_id("f");
  for (int n : {0, 1, 1000, 70000}) {
    v1::Tensor* t = req.add_inputs();
    t->set_dtype(v1::DT_FLOAT32);
    t->add_shape(n);
    t->set_data(Floats(n, static_cast<float>(n)));
  }
  req.add_release("a");
  std::string wire = req.SerializeAsString();
  ExpectDecodesAsProtobufDoes(wire);
  ExpectDecodesAsProtobufDoes(wire, 1);
  ExpectDecodesAsProtobufDoes(wire, 1 << 20);
  RunCall call;
  ASSERT_TRUE(DecodeRequest(Sliced(wire, 4096), &call).ok());
  ASSERT_TRUE(call.input_data[3].has_value());  // left in place: what every client writes
  EXPECT_EQ(call.input_data[3]->length, 280000);
  EXPECT_TRUE(call.message.inputs(3).data().empty());
  auto t = call.TensorOf(call.message.inputs(3), call.input_data[3]);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->num_bytes(), 280000u);
  EXPECT_EQ(t->data<float>()[69999], 70000.0f + 69999.0f);
  EXPECT_EQ(call.message.session_id(), "s");
  EXPECT_EQ(call.message.release(0), "a");
}

TEST(RunCodec, ArgsOfEveryKindAndOneofsReplacedLater) {
  v1::RunRequest req;
  v1::Tensor* t = req.add_args()->mutable_tensor();
  t->set_dtype(v1::DT_INT8);
  t->add_shape(3);
  t->set_data("abc");
  req.add_args()->mutable_ref()->set_id("da-1");
  v1::ShmTensor* shm = req.add_args()->mutable_shm();
  shm->set_region("r");
  shm->set_offset(64);
  v1::ShmSlot* slot = req.add_output_slots();
  slot->set_region("r");
  slot->set_byte_size(12);
  std::string wire = req.SerializeAsString();
  ExpectDecodesAsProtobufDoes(wire);
  // A Value whose tensor is followed by a ref: the ref wins (protobuf's oneof rule).
  v1::Value ref;
  ref.mutable_ref()->set_id("later");
  std::string value = req.args(0).SerializeAsString() + ref.SerializeAsString();
  v1::RunRequest one;
  one.add_args()->ParseFromString(value);
  ASSERT_TRUE(one.args(0).has_ref());
  auto as_arg = [](const std::string& value) {
    return std::string(1, static_cast<char>(4 << 3 | 2)) +
           std::string(1, static_cast<char>(value.size())) + value;
  };
  ExpectDecodesAsProtobufDoes(as_arg(value));
  // A tensor, then a ref, then a tensor without data: the first tensor's bytes are gone.
  v1::Value no_data;
  no_data.mutable_tensor()->set_dtype(v1::DT_INT8);
  no_data.mutable_tensor()->add_shape(3);
  ExpectDecodesAsProtobufDoes(
      as_arg(value + no_data.SerializeAsString()));  // value: the tensor, then the ref
  RunCall stale;
  ASSERT_TRUE(DecodeRequest(Sliced(as_arg(value + no_data.SerializeAsString()), 3), &stale).ok());
  EXPECT_FALSE(stale.arg_data[0].has_value());
  EXPECT_TRUE(stale.message.args(0).tensor().data().empty());
  // And a ref followed by a tensor: the tensor wins.
  ExpectDecodesAsProtobufDoes(as_arg(ref.SerializeAsString() + req.args(0).SerializeAsString()));
  RunCall call;
  ASSERT_TRUE(
      DecodeRequest(Sliced(as_arg(ref.SerializeAsString() + req.args(0).SerializeAsString()), 2),
                    &call)
          .ok());
  EXPECT_TRUE(call.message.args(0).has_tensor());
  EXPECT_TRUE(call.arg_data[0].has_value());
}

TEST(RunCodec, DataBeforeItsTypeOrNotMatchingItStaysInTheMessage) {
  // Fields in any order, a dtype given again after the data, a byte count that does not fit
  // the shape, an unknown field: each decodes as protobuf decodes it, the data left in the
  // message so that its checks name the problem.
  v1::Tensor typed;
  typed.set_dtype(v1::DT_FLOAT32);
  typed.add_shape(2);
  v1::Tensor data_only;
  data_only.set_data(Floats(2, 1));
  v1::Tensor int_type;
  int_type.set_dtype(v1::DT_INT32);
  v1::Tensor wrong_count = typed;
  wrong_count.set_data(Floats(3, 1));
  auto input = [](const std::string& tensor) {
    std::string key(1, static_cast<char>(3 << 3 | 2));
    return key + std::string(1, static_cast<char>(tensor.size())) + tensor;
  };
  const std::string unknown = std::string(1, static_cast<char>(9 << 3 | 0)) + "\x05";
  for (const std::string& tensor :
       {data_only.SerializeAsString() + typed.SerializeAsString(),
        typed.SerializeAsString() + data_only.SerializeAsString() + int_type.SerializeAsString(),
        wrong_count.SerializeAsString(),
        unknown + typed.SerializeAsString() + data_only.SerializeAsString()}) {
    ExpectDecodesAsProtobufDoes(input(tensor));
  }
  RunCall call;
  ASSERT_TRUE(
      DecodeRequest(Sliced(input(data_only.SerializeAsString() + typed.SerializeAsString()), 3),
                    &call)
          .ok());
  EXPECT_FALSE(call.input_data[0].has_value());
  EXPECT_EQ(call.message.inputs(0).data().size(), 8u);
}

TEST(RunCodec, MalformedRequestsAreInvalidArgument) {
  v1::RunRequest req;
  v1::Tensor* t = req.add_inputs();
  t->set_dtype(v1::DT_FLOAT32);
  t->add_shape(100);
  t->set_data(Floats(100, 0));
  req.set_session_id("s");
  const std::string wire = req.SerializeAsString();
  // Cut anywhere: refused exactly where protobuf refuses it.
  for (size_t cut = 0; cut < wire.size(); ++cut) {
    RunCall call;
    const std::string part = wire.substr(0, cut);
    absl::Status s = DecodeRequest(Sliced(part, 3), &call);
    v1::RunRequest expected;
    ASSERT_EQ(s.ok(), expected.ParseFromString(part)) << cut << ": " << s;
    if (!s.ok()) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << cut;
      EXPECT_NE(s.message().find("tensord.v1.RunRequest"), std::string::npos) << s;
    }
  }
  // Tags as protobuf reads them: one spelled in six bytes is refused, one of five whose bits
  // run past 32 is cut to 32 (an unknown field here), one whose 32 bits are 0 is refused; at
  // the top and nested. (libFuzzer found the decoder disagreeing on such tags.)
  const std::string overlong = std::string("\x8a\x80\x80\x80\x80\x00", 6) + "\x01s";
  const std::string wide = std::string("\xd0\xcf\xcf\xcf\x30", 5) + "\x01";
  const std::string zero = std::string("\x80\x80\x80\x80\x10", 5) + "\x01";
  // A group (field 14) holding a tag of nine bytes, then its end.
  const std::string group = std::string("\x73\x85\x96\x90\x91\xd2\xce\xed\xfb\x66", 10) +
                            std::string("\x01\x02\x03\x04\x74", 5);
  // And a well-formed group holding a varint field: kept, as protobuf keeps it.
  const std::string fine_group = std::string("\x73\x08\x05\x74", 4);
  auto nested = [](const std::string& tensor) {
    return std::string(1, static_cast<char>(3 << 3 | 2)) +
           std::string(1, static_cast<char>(tensor.size())) + tensor;
  };
  for (const std::string& request :
       {overlong, wide, zero, group, fine_group, nested(overlong), nested(wide), nested(zero),
        nested(group), nested(fine_group)}) {
    v1::RunRequest expected;
    const bool parsed = expected.ParseFromString(request);
    RunCall call;
    absl::Status s = DecodeRequest(Sliced(request, 2), &call);
    EXPECT_EQ(s.ok(), parsed) << s;
    if (!parsed) EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  }
  // A 64-bit length (2^32 + 16) is not 16.
  v1::Tensor small;
  small.set_dtype(v1::DT_FLOAT32);
  small.add_shape(4);
  const std::string long_data =
      small.SerializeAsString() + std::string("\x1a\x90\x80\x80\x80\x10", 6) + Floats(4, 0);
  const std::string request = std::string(1, static_cast<char>(3 << 3 | 2)) +
                              std::string(1, static_cast<char>(long_data.size())) + long_data;
  RunCall call64;
  v1::RunRequest expected64;
  EXPECT_FALSE(expected64.ParseFromString(request));
  EXPECT_EQ(DecodeRequest(Sliced(request, 4), &call64).code(), absl::StatusCode::kInvalidArgument);
  // Lengths larger than what follows (a 256 MiB tensor in a few bytes): malformed, and refused
  // before a buffer of that size is allocated.
  v1::Tensor big;
  big.set_dtype(v1::DT_FLOAT32);
  big.add_shape(1 << 26);
  std::string head = big.SerializeAsString() + std::string("\x1a\x80\x80\x80\x80\x01", 6);
  std::string claim = std::string(1, static_cast<char>(3 << 3 | 2)) +
                      std::string("\x80\x80\x80\x80\x01", 5) + head + "tail";
  RunCall call;
  EXPECT_EQ(DecodeRequest(Sliced(claim, 5), &call).code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tensord::server
