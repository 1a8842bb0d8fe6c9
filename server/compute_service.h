// The tensord.v1.Compute gRPC service (callback API). Each handler validates its request,
// calls into the engine, and maps absl::Status to a gRPC status in one place.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "engine/compile/executable_cache.h"
#include "engine/context/context.h"
#include "server/auth.h"
#include "server/functions.h"
#include "server/metrics.h"
#include "server/session.h"
#include "server/work_pool.h"
#include "tensord/v1/compute.grpc.pb.h"

namespace tensord::server {

struct ServerConfig {
  std::string float_x = "float32";
  std::chrono::seconds session_idle_timeout{3600};
  size_t cache_max_entries = 1024;
  size_t cache_max_bytes = size_t{1} << 30;
  // ListSessions / ListFunctions answer PERMISSION_DENIED unless set (--enable_admin_rpcs).
  bool enable_admin_rpcs = false;
  // Threads for Run, Compile and Differentiate beyond those run inline (--compute_threads;
  // 0: one per core).
  int compute_threads = 0;
  SessionLimits session_limits;
  // Applies a Compile or Differentiate request's graph may hold, inner graphs included
  // (--max_graph_nodes; 0: no limit).
  int64_t max_graph_nodes = 0;
  // gRPC's message limit (--max_message_bytes): a Run's reply must fit before it commits.
  int64_t max_message_bytes = 0;
  // RegisterSharedMemory and shared-memory values are served to local peers (--shared_memory=
  // local) or to none (off).
  bool shared_memory = true;
};

class Persistence;
class StateDir;

// Every method is served over raw bytes (server/rpc_codec.h decodes and checks the request), so
// a request gRPC could not decode still gets a status that says what was wrong.
class ComputeService final : public v1::Compute::Service {
 public:
  // `metrics` and `auth` must outlive the service; the service feeds metrics and detaches from
  // them on destruction.
  ComputeService(ServerConfig config, std::unique_ptr<context::ContextRegistry> contexts,
                 Metrics* metrics, const Authenticator* auth);
  ~ComputeService() override;

  // --state_dir: restores the sessions saved there, warms the compile cache from its specs (in
  // the background) and snapshots changed sessions every `snapshot_interval` (0: only on
  // SaveSession and at SaveState). Call before serving.
  void EnableStateDir(std::unique_ptr<StateDir> dir, std::chrono::seconds snapshot_interval);
  // Snapshots the sessions changed since their last snapshot (at shutdown, when no call runs).
  void SaveState();

  using Ctx = grpc::CallbackServerContext;
  using Reactor = grpc::ServerUnaryReactor;
  // One call as a handler sees it: gRPC's context and who is calling.
  struct Caller {
    Ctx* ctx;
    Principal principal;
  };

  absl::Status GetServerInfo(const Caller&, const v1::GetServerInfoRequest&, v1::ServerInfo*);
  absl::Status OpenSession(const Caller&, const v1::OpenSessionRequest&, v1::OpenSessionResponse*);
  absl::Status CloseSession(const Caller&, const v1::CloseSessionRequest&,
                            v1::CloseSessionResponse*);
  absl::Status SaveSession(const Caller&, const v1::SaveSessionRequest&, v1::SaveSessionResponse*);
  absl::Status CreateShared(const Caller&, const v1::CreateSharedRequest&, v1::SharedInfo*);
  absl::Status GetShared(const Caller&, const v1::GetSharedRequest&, v1::GetSharedResponse*);
  absl::Status SetShared(const Caller&, const v1::SetSharedRequest&, v1::SharedInfo*);
  absl::Status DeleteShared(const Caller&, const v1::DeleteSharedRequest&,
                            v1::DeleteSharedResponse*);
  absl::Status ListShared(const Caller&, const v1::ListSharedRequest&, v1::ListSharedResponse*);
  absl::Status Differentiate(const Caller&, const v1::DifferentiateRequest&,
                             v1::DifferentiateResponse*);
  absl::Status Compile(const Caller&, const v1::CompileRequest&, v1::CompileResponse*);
  absl::Status Run(const Caller&, const RunCall&, RunReply*);
  absl::Status DescribeFunction(const Caller&, const v1::DescribeFunctionRequest&,
                                v1::DescribeFunctionResponse*);
  absl::Status GetProfile(const Caller&, const v1::GetProfileRequest&, v1::GetProfileResponse*);
  absl::Status ResetProfile(const Caller&, const v1::ResetProfileRequest&,
                            v1::ResetProfileResponse*);
  absl::Status ReleaseFunction(const Caller&, const v1::ReleaseFunctionRequest&,
                               v1::ReleaseFunctionResponse*);
  absl::Status FetchRef(const Caller&, const v1::FetchRefRequest&, v1::FetchRefResponse*);
  absl::Status ReleaseRefs(const Caller&, const v1::ReleaseRefsRequest&, v1::ReleaseRefsResponse*);
  absl::Status RegisterSharedMemory(const Caller&, const v1::RegisterSharedMemoryRequest&,
                                    v1::RegisterSharedMemoryResponse*);
  absl::Status UnregisterSharedMemory(const Caller&, const v1::UnregisterSharedMemoryRequest&,
                                      v1::UnregisterSharedMemoryResponse*);
  absl::Status ListSessions(const Caller&, const v1::ListSessionsRequest&,
                            v1::ListSessionsResponse*);
  absl::Status ListFunctions(const Caller&, const v1::ListFunctionsRequest&,
                             v1::ListFunctionsResponse*);

 private:
  template <class Request, class Response>
  using Method = absl::Status (ComputeService::*)(const Caller&, const Request&, Response*);
  // kCompute: Run, Compile and the like, which may take long (see HandleCompute) and honour the
  // client's deadline and cancellation; kInline: quick bookkeeping on gRPC's thread.
  enum class Threads { kInline, kCompute };
  // Serves tensord.v1.Compute's method `name` with `method`: decode, check enums, call, encode.
  template <class Request, class Response>
  void Serve(const char* name, Method<Request, Response> method, Threads threads);
  // One authenticated call of a served method: deadline, decoding, the enum check, `method`.
  template <class Request, class Response>
  absl::Status Call(Ctx* ctx, const Principal& principal, const grpc::ByteBuffer& in,
                    grpc::ByteBuffer* out, Method<Request, Response> method, Threads threads);

  // Runs one RPC's body: maps its status to gRPC, logs and records metrics for it.
  Reactor* Handle(Ctx* ctx, const char* method, const std::function<absl::Status()>& body);
  // For RPCs that compute (Run, Compile, Differentiate): inline on gRPC's thread while fewer
  // than max_inline_ such bodies run there (no thread hop: a small Run stays fast), else on the
  // compute pool (server/work_pool.h), which finishes the reactor; so some of gRPC's threads
  // always stay free for other RPCs. The body must capture by value: it may outlive the call.
  Reactor* HandleCompute(Ctx* ctx, const char* method, std::function<absl::Status()> body);
  // Runs `body` with exceptions turned into statuses, logs and records the RPC.
  absl::Status Execute(Ctx* ctx, const char* method, const std::function<absl::Status()>& body,
                       std::chrono::steady_clock::time_point start);
  MetricsSnapshot Snapshot() const;
  // PERMISSION_DENIED unless shared memory is on and the caller is on this host.
  absl::Status CheckSharedMemoryPeer(const Caller& call) const;

  const ServerConfig config_;
  Metrics* const metrics_;
  const Authenticator* const auth_;
  std::unique_ptr<context::ContextRegistry> contexts_;
  SessionManager sessions_;
  compile::ExecutableCache cache_;
  FunctionService functions_;
  // Set by EnableStateDir; after sessions_ and functions_, which it uses.
  std::unique_ptr<Persistence> persistence_;
  int served_methods_ = 0;
  const int max_inline_;
  std::atomic<int> inline_in_flight_{0};
  // Last, so it is destroyed first: its threads are joined before what their tasks use goes.
  WorkPool pool_;
};

}  // namespace tensord::server
