// Compile and Run on behalf of a session: the engine-facing half of the Compute service.
#pragma once

#include <functional>
#include <map>

#include "engine/compile/compiler.h"
#include "engine/compile/executable_cache.h"
#include "engine/context/context.h"
#include "server/metrics.h"
#include "server/run_codec.h"
#include "server/session.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// What compiling needs to know of a shared variable a graph names: its type and context. A
// session's variables answer (SharedIn); so do the declarations a compile-cache spec saved
// (server/persistence.h), which compile a function again without its session.
struct SharedDecl {
  ir::Type type;
  std::string context;
};
using SharedLookup = std::function<absl::StatusOr<SharedDecl>(const std::string& shared_id)>;
SharedLookup SharedIn(Session& session);

// NOT_FOUND unless every shared variable the graph names exists; INVALID_ARGUMENT when the graph
// gives one another type. Compile and Differentiate both check this.
absl::Status CheckSharedReferences(const ir::Graph& graph, const SharedLookup& shared);

// RESOURCE_EXHAUSTED when `graph` holds more than `limit` applies, its inner graphs' included
// (0: no limit). Counted on the wire form, before the graph is decoded into the IR.
absl::Status CheckGraphSize(const v1::Graph& graph, int64_t limit);

class FunctionService {
 public:
  // `max_reply_bytes`: a Run whose reply would be larger fails before storing updates (the
  // server's --max_message_bytes; 0: no limit).
  FunctionService(const context::ContextRegistry* contexts, compile::ExecutableCache* cache,
                  Metrics* metrics, int64_t max_reply_bytes = 0)
      : contexts_(contexts), cache_(cache), metrics_(metrics), max_reply_bytes_(max_reply_bytes) {}

  absl::Status Compile(Session& session, const v1::FunctionSpec& spec, v1::CompileResponse* out);
  // A function of the session: a compiled one, or one restored from --state_dir, compiled now
  // (through the cache, which a restarted server warms with the same specs).
  absl::StatusOr<std::shared_ptr<const Function>> Find(Session& session, const std::string& id);
  // Builds `key`'s executable into the cache from a saved spec (persistence.h) unless it is
  // there; FAILED_PRECONDITION when the spec's key is not `key` any more (another version).
  absl::Status Warm(const std::string& key, const v1::FunctionSpec& spec,
                    const SharedLookup& shared);
  // Called after each compile that missed the cache with its key, spec and the shared variables
  // it read (to save the spec for the next start); set before serving.
  using CompiledHook = std::function<void(const std::string& key, const v1::FunctionSpec& spec,
                                          const std::map<std::string, SharedDecl>& shared)>;
  void set_on_compiled(CompiledHook hook) { on_compiled_ = std::move(hook); }
  // Outputs the function leaves on a device stay in the session as device arrays (Value.ref).
  absl::Status Run(Session& session, const RunCall& call, RunReply* out);
  // A device array's value, copied to the client (a device-to-host transfer).
  absl::Status FetchRef(Session& session, const std::string& id, v1::FetchRefResponse* out) const;
  // Decodes and checks a spec against the session (shared variables, context, mode) and
  // applies givens and updates; the cache key comes with the result.
  absl::StatusOr<compile::PreparedFunction> Prepare(const SharedLookup& shared,
                                                    const v1::FunctionSpec& spec) const;
  absl::Status Describe(Session& session, const std::string& function_id,
                        v1::DescribeFunctionResponse* out);
  // FAILED_PRECONDITION for a function compiled without profile=True.
  absl::Status GetProfile(Session& session, const v1::GetProfileRequest& request,
                          v1::GetProfileResponse* out);
  absl::Status ResetProfile(Session& session, const std::string& function_id);

 private:
  // `prepared`'s executable from the cache, or built into it; *hit says which.
  absl::StatusOr<std::shared_ptr<compile::Executable>> GetOrBuild(
      compile::PreparedFunction prepared, bool* hit);
  // The session's function for `spec`, from the cache or built into it; *hit says which.
  absl::StatusOr<Function> Bind(Session& session, const v1::FunctionSpec& spec, bool* hit);
  // FAILED_PRECONDITION for a function compiled without profile=True.
  absl::StatusOr<std::shared_ptr<const Function>> FindProfiled(Session& session,
                                                               const std::string& function_id);
  // The run's inputs from `inputs` (host bytes) or `args` (bytes or device arrays).
  absl::StatusOr<std::vector<runtime::Tensor>> RunInputs(Session& session,
                                                         const compile::Executable& exe,
                                                         const RunCall& call) const;

  const context::ContextRegistry* contexts_;
  compile::ExecutableCache* cache_;
  Metrics* metrics_;
  const int64_t max_reply_bytes_;
  CompiledHook on_compiled_;
};

}  // namespace tensord::server
