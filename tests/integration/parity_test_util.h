// Shared by the type-inference parity suites (elementwise_parity_test.cc,
// reduction_parity_test.cc), which compare the C++ client's inference with the live server's:
// the dtypes they sample, how they print types, and compiling many cases as one graph.
#pragma once

#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tensord/client.h"
#include "tests/integration/live_server_test.h"

namespace tensord::client {

// Every wire dtype but float16, which the server refuses everywhere (no kernel computes it yet)
// and the client does not restate that refusal.
inline constexpr DType kParityDTypes[] = {kBool,   kInt8,   kInt16,  kInt32,   kInt64,  kUInt8,
                                          kUInt16, kUInt32, kUInt64, kFloat32, kFloat64};

inline DType RandomParityDType(std::mt19937& rng) {
  return kParityDTypes[std::uniform_int_distribution<size_t>(0, std::size(kParityDTypes) - 1)(rng)];
}

// At most this many disagreements are reported; one is already a failure.
inline constexpr int kMaxReported = 20;

// "int8(T,F)": the dtype and broadcastable pattern.
inline std::string TypeText(const ::tensord::v1::TensorType& t) {
  return absl::StrCat(DTypeName(t.dtype()), "(",
                      absl::StrJoin(t.broadcastable(), ",",
                                    [](std::string* out, bool b) { out->append(b ? "T" : "F"); }),
                      ")");
}

inline Var InputOf(GraphBuilder& g, const ::tensord::v1::TensorType& t) {
  return g.Input("", t.dtype(), {t.broadcastable().begin(), t.broadcastable().end()});
}

// One graph's inputs, shared by type, so that thousands of cases need at most 11 dtypes x 15
// patterns of inputs.
class InputPool {
 public:
  explicit InputPool(GraphBuilder& g) : g_(g) {}

  Var Get(const ::tensord::v1::TensorType& t) {
    Var& v = pool_[t.SerializeAsString()];
    if (!v.valid()) {
      v = InputOf(g_, t);
      inputs_.push_back(v);
    }
    return v;
  }
  const std::vector<Var>& inputs() const { return inputs_; }

 private:
  GraphBuilder& g_;
  std::map<std::string, Var> pool_;
  std::vector<Var> inputs_;
};

// A raw node the client refused was declared with output types the server never infers for it,
// so a server that accepts the node answers "declared as ... but the op produces T"; a refusal
// of its own (the dtypes, the axes) is INVALID_ARGUMENT or UNIMPLEMENTED with another message.
inline bool ServerRefusesOnItsOwn(const absl::Status& server) {
  const bool refuses = server.code() == absl::StatusCode::kInvalidArgument ||
                       server.code() == absl::StatusCode::kUnimplemented;
  return refuses && !absl::StrContains(server.message(), "but the op produces");
}

class ParityTest : public LiveServerTest {
 protected:
  // FAST_COMPILE: the types are settled at decode, before any pass runs.
  absl::StatusOr<Function> Compile(const GraphBuilder& g, std::vector<Var> inputs,
                                   std::vector<Var> outputs) {
    FunctionOptions options;
    options.mode = "FAST_COMPILE";
    return session_->Compile(g, std::move(inputs), std::move(outputs), {}, {}, options);
  }

  // The server's output types for the graph, or its error (the first node it disagrees on).
  absl::StatusOr<std::vector<::tensord::v1::TensorType>> CompiledTypes(const GraphBuilder& g,
                                                                       std::vector<Var> inputs,
                                                                       std::vector<Var> outputs) {
    absl::StatusOr<Function> f = Compile(g, std::move(inputs), std::move(outputs));
    if (!f.ok()) return f.status();
    const auto& types = f->compile_response().output_types();
    return std::vector<::tensord::v1::TensorType>(types.begin(), types.end());
  }
};

}  // namespace tensord::client
