#include "server/rpc_codec.h"

#include <climits>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/stubs/logging.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

thread_local std::string last_protobuf_log;

void RouteProtobufLog(google::protobuf::LogLevel level, const char* file, int line,
                      const std::string& message) {
  last_protobuf_log = message;
  if (level >= google::protobuf::LOGLEVEL_FATAL) {
    spdlog::critical("protobuf {}:{}: {}", file, line, message);
  } else {
    spdlog::debug("protobuf: {}", message);
  }
}

// Whether messages of type `d` can hold an enum field at any depth; the walk below skips the
// subtrees that cannot (a tensor's shape, an attribute's list of ints).
bool MayHoldEnum(const Descriptor* d) {
  // Asked for every message field of every request. The answer depends on the (immutable)
  // descriptor alone, so each thread memoizes it without sharing or locking anything.
  thread_local std::unordered_map<const Descriptor*, bool> memo;
  if (auto it = memo.find(d); it != memo.end()) return it->second;
  // Types are a finite graph with cycles (Graph -> Apply -> Graph): a plain reachability search.
  std::unordered_set<const Descriptor*> seen{d};
  std::vector<const Descriptor*> stack{d};
  bool found = false;
  while (!stack.empty() && !found) {
    const Descriptor* t = stack.back();
    stack.pop_back();
    for (int i = 0; i < t->field_count() && !found; ++i) {
      const FieldDescriptor* f = t->field(i);
      if (f->type() == FieldDescriptor::TYPE_ENUM) found = true;
      const Descriptor* m = f->message_type();
      if (m != nullptr && seen.insert(m).second) stack.push_back(m);
    }
  }
  return memo[d] = found;
}

// A message reached by the walk: where it sits (parent's index in the walk, the field, the
// element's index in a repeated field or -1), so a path is spelled out only for an error.
struct Visit {
  const Message* message;
  int64_t parent;
  const FieldDescriptor* field;
  int index;
};

std::string FormatPath(const std::vector<Visit>& visits, int64_t at, const FieldDescriptor* field,
                       int index) {
  std::vector<std::string> steps;
  auto step = [&](const FieldDescriptor* f, int i) {
    steps.push_back(i >= 0 ? absl::StrCat(f->name(), "[", i, "]") : f->name());
  };
  step(field, index);
  for (int64_t v = at; v > 0; v = visits[v].parent) step(visits[v].field, visits[v].index);
  std::string out;
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    if (!out.empty()) out += '.';
    out += *it;
  }
  return out;
}

// Iterative, so no request can deepen this walk's stack (protobuf's decoder already bounds
// nesting to 100, but the walk should not rely on it); memory is one Visit per message.
absl::Status CheckEnums(const Message& root) {
  std::vector<Visit> visits{{&root, -1, nullptr, -1}};
  std::vector<const FieldDescriptor*> fields;
  for (size_t at = 0; at < visits.size(); ++at) {
    const Message& m = *visits[at].message;
    const Reflection* r = m.GetReflection();
    fields.clear();
    r->ListFields(m, &fields);
    for (const FieldDescriptor* f : fields) {
      const bool is_enum = f->type() == FieldDescriptor::TYPE_ENUM;
      if (!is_enum &&
          !(f->type() == FieldDescriptor::TYPE_MESSAGE && MayHoldEnum(f->message_type()))) {
        continue;
      }
      const bool repeated = f->is_repeated();
      const int count = repeated ? r->FieldSize(m, f) : 1;
      for (int i = 0; i < count; ++i) {
        const int index = repeated ? i : -1;
        if (!is_enum) {
          visits.push_back({repeated ? &r->GetRepeatedMessage(m, f, i) : &r->GetMessage(m, f),
                            static_cast<int64_t>(at), f, index});
          continue;
        }
        const int value = repeated ? r->GetRepeatedEnumValue(m, f, i) : r->GetEnumValue(m, f);
        if (f->enum_type()->FindValueByNumber(value) == nullptr) {
          return InvalidArgument("field ", FormatPath(visits, static_cast<int64_t>(at), f, index),
                                 " of ", root.GetDescriptor()->full_name(), " has value ", value,
                                 ", which is not a ", f->enum_type()->full_name());
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

namespace {
absl::Status ParseFrom(google::protobuf::io::CodedInputStream& input, Message* message) {
  input.SetTotalBytesLimit(INT_MAX);  // gRPC's max message size already bounds the request
  last_protobuf_log.clear();
  // Merged, which for the fresh message DecodeRequest fills is parsing it, and for a part
  // DecodeRequestPart merges is what protobuf does with fields it meets later on the wire.
  if (message->MergeFromCodedStream(&input) && input.ConsumedEntireMessage()) {
    return absl::OkStatus();
  }
  std::string why = last_protobuf_log.empty()
                        ? "not a valid protobuf encoding, or messages nested more than 100 deep"
                        : Echo(last_protobuf_log, 200);
  return InvalidArgument("request could not be decoded as ", message->GetTypeName(), ": ", why);
}
}  // namespace

absl::Status DecodeRequest(const grpc::ByteBuffer& bytes, Message* message) {
  grpc::ByteBuffer copy(bytes);  // the reader needs a mutable buffer; slices are shared
  grpc::ProtoBufferReader reader(&copy);
  if (!reader.status().ok()) {
    return InvalidArgument("request could not be read: ", reader.status().error_message());
  }
  google::protobuf::io::CodedInputStream input(&reader);
  return ParseFrom(input, message);
}

absl::Status DecodeRequestPart(absl::string_view bytes, Message* message, int recursion_budget) {
  google::protobuf::io::CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()),
                                               static_cast<int>(bytes.size()));
  input.SetRecursionLimit(recursion_budget);
  return ParseFrom(input, message);
}

absl::Status EncodeResponse(const Message& message, grpc::ByteBuffer* bytes) {
  bool own_buffer = false;
  grpc::Status s =
      grpc::GenericSerialize<grpc::ProtoBufferWriter, Message>(message, bytes, &own_buffer);
  if (!s.ok()) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the response (", message.GetTypeName(), ") could not be encoded: ", s.error_message()));
  }
  return absl::OkStatus();
}

absl::Status CheckEnumFields(const Message& message) {
  if (!MayHoldEnum(message.GetDescriptor())) return absl::OkStatus();
  return CheckEnums(message);
}

void InstallProtobufLogHandler() { google::protobuf::SetLogHandler(&RouteProtobufLog); }

std::string Echo(absl::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return absl::StrCat(text.substr(0, limit), "...(", text.size(), " bytes)");
}

}  // namespace tensord::server
