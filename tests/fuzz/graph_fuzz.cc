// Fuzz target: bytes -> tensord.v1.FunctionSpec -> the wire checks, graph decode and type check,
// function preparation (givens, updates, canonical key), the optimizer and the executable
// builder: everything Compile does before a function runs. Any crash, sanitizer report or
// INTERNAL status is a finding (INTERNAL means the server blamed itself for a client's input).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/frontend/proto_convert.h"
#include "engine/runtime/tensor.h"
#include "server/rpc_codec.h"
#include "tensord/v1/compute.pb.h"

namespace {

void Check(const absl::Status& s) {
  if (s.code() == absl::StatusCode::kInternal || s.code() == absl::StatusCode::kUnknown) {
    std::fprintf(stderr, "server bug: %s\n", s.ToString().c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool init = [] {
    tensord::server::InstallProtobufLogHandler();  // no stderr noise per input
    tensord::runtime::SetMaxTensorBytes(1 << 20);  // inputs are small; so are their tensors
    return true;
  }();
  (void)init;
  tensord::v1::FunctionSpec spec;
  if (!spec.ParseFromArray(data, static_cast<int>(size))) return 0;
  absl::Status s = tensord::server::CheckEnumFields(spec);
  if (!s.ok()) return 0;
  auto decoded = tensord::ir::GraphFromProto(spec.graph());
  Check(decoded.status());
  if (!decoded.ok()) return 0;
  std::vector<tensord::compile::Substitution> updates;
  for (const auto& u : spec.updates()) {
    auto var = decoded->Lookup(u.variable(), "update");
    auto value = decoded->Lookup(u.value(), "update value");
    if (!var.ok() || !value.ok()) return 0;
    updates.push_back({*var, *value});
  }
  // Shared variables need a session: a graph that names one stops at decoding, as it would in
  // Compile's check against the session.
  for (const auto& v : decoded->graph.variables()) {
    if (v->source == tensord::ir::Source::kShared) return 0;
  }
  tensord::compile::CompileOptions options;
  options.mode = spec.mode() == "FAST_COMPILE" ? "FAST_COMPILE" : "FAST_RUN";
  auto prepared = tensord::compile::PrepareFunction(
      std::make_unique<tensord::ir::Graph>(std::move(decoded->graph)), std::move(updates), {},
      options);
  Check(prepared.status());
  if (!prepared.ok()) return 0;
  Check(tensord::compile::BuildExecutable(*std::move(prepared)).status());
  return 0;
}
