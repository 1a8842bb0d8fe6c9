// The Compute service's wire boundary. Its handlers take raw bytes and decode requests here,
// because gRPC's own decoding answers a request it cannot parse with an empty UNIMPLEMENTED;
// and every request passes one reflection-driven check of its enum fields before any handler
// reads it, so no out-of-range enum number reaches a table lookup.
#pragma once

#include <string>

#include "engine/common/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/byte_buffer.h"

namespace tensord::server {

// Parses `bytes` into `message`. INVALID_ARGUMENT naming the message type (and protobuf's reason
// when it logged one, e.g. a string field that is not UTF-8) when they are not a valid encoding
// or nest messages deeper than protobuf's recursion limit.
absl::Status DecodeRequest(const grpc::ByteBuffer& bytes, google::protobuf::Message* message);

// The same for encoded fields of a request that a method-specific decoder set aside
// (server/run_codec.h): merged into `message`, as protobuf merges fields it meets later on the
// wire, with the same checks and errors, nesting at most `recursion_budget` deeper (what
// protobuf's limit of 100 leaves at the depth they came from).
absl::Status DecodeRequestPart(absl::string_view bytes, google::protobuf::Message* message,
                               int recursion_budget);

// Serializes `message` into `bytes` (RESOURCE_EXHAUSTED when it is too large to encode).
absl::Status EncodeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* bytes);

// INVALID_ARGUMENT naming the field's path and value when an enum field anywhere in `message`
// holds a number its enum does not define (proto3 keeps unknown numbers as they came).
absl::Status CheckEnumFields(const google::protobuf::Message& message);

// Sends protobuf's own log lines (which a hostile request can trigger at will) to spdlog's debug
// level instead of stderr, and keeps the last one per thread for DecodeRequest's message.
void InstallProtobufLogHandler();

// A client-sent string as an error message may quote it: at most `limit` bytes, then a count.
std::string Echo(absl::string_view text, size_t limit = 64);

}  // namespace tensord::server
