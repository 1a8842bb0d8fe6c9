// Compile and Run on behalf of a session: the engine-facing half of the Compute service.
#pragma once

#include "engine/compile/compiler.h"
#include "engine/compile/executable_cache.h"
#include "engine/context/context.h"
#include "server/metrics.h"
#include "server/session.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// NOT_FOUND unless every shared variable the graph names exists in the session; INVALID_ARGUMENT
// when the graph gives one another type. Compile and Differentiate both check this.
absl::Status CheckSharedReferences(const ir::Graph& graph, Session& session);

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
  // Outputs the function leaves on a device stay in the session as device arrays (Value.ref).
  absl::Status Run(Session& session, const v1::RunRequest& request, v1::RunResponse* out);
  // A device array's value, copied to the client (a device-to-host transfer).
  absl::Status FetchRef(Session& session, const std::string& id, v1::FetchRefResponse* out) const;
  // Decodes and checks a spec against the session (shared variables, context, mode) and
  // applies givens and updates; the cache key comes with the result.
  absl::StatusOr<compile::PreparedFunction> Prepare(Session& session,
                                                    const v1::FunctionSpec& spec) const;
  absl::Status Describe(Session& session, const std::string& function_id,
                        v1::DescribeFunctionResponse* out);
  // FAILED_PRECONDITION for a function compiled without profile=True.
  absl::Status GetProfile(Session& session, const v1::GetProfileRequest& request,
                          v1::GetProfileResponse* out);
  absl::Status ResetProfile(Session& session, const std::string& function_id);

 private:
  // The run's inputs from `inputs` (host bytes) or `args` (bytes or device arrays).
  absl::StatusOr<std::vector<runtime::Tensor>> RunInputs(Session& session,
                                                         const compile::Executable& exe,
                                                         const v1::RunRequest& request) const;

  const context::ContextRegistry* contexts_;
  compile::ExecutableCache* cache_;
  Metrics* metrics_;
  const int64_t max_reply_bytes_;
};

}  // namespace tensord::server
