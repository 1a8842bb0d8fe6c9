#include "server/compute_service.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <new>
#include <optional>
#include <stdexcept>

#include "engine/frontend/proto_convert.h"
#include "engine/ops/op_def.h"
#include "engine/ops/op_schema.h"
#include "engine/ops/scalar/vector_math.h"
#include "engine/runtime/interrupt.h"
#include "google/protobuf/descriptor.h"
#include "server/admin.h"
#include "server/differentiate.h"
#include "server/persistence.h"
#include "server/rpc_codec.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace {

// The RPC's deadline (none when the client set none) and cancellation, for long work to poll.
runtime::Interrupt CallInterrupt(const grpc::CallbackServerContext& ctx) {
  runtime::Interrupt interrupt;
  interrupt.cancelled = [&ctx] { return ctx.IsCancelled(); };
  const auto left = ctx.deadline() - std::chrono::system_clock::now();
  // An unset deadline reads as the far future; keep it "none" rather than overflow the clock.
  if (left < std::chrono::hours(24 * 365)) {
    interrupt.deadline = std::chrono::steady_clock::now() +
                         std::chrono::duration_cast<std::chrono::steady_clock::duration>(left);
  }
  return interrupt;
}

grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  // The message travels in a header: whatever a request made it quote, it must fit gRPC's
  // metadata limit (8 KiB by default) or the client sees RESOURCE_EXHAUSTED instead.
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), Echo(s.message(), 4096));
}

const google::protobuf::ServiceDescriptor& ComputeDescriptor() {
  static const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          v1::Compute::service_full_name());
  return *service;
}

void FillSharedInfo(const context::SharedVariable& var, v1::SharedInfo* info) {
  info->set_id(var.id());
  info->set_name(var.name());
  ir::TypeToProto(var.type(), info->mutable_type());
  info->set_context(var.context()->name);
  runtime::Tensor value = var.Get();  // keep the snapshot alive while reading its shape
  for (int64_t d : value.shape()) info->add_shape(d);
}

// Decodes a value for a shared variable and checks it against the variable's type.
absl::StatusOr<runtime::Tensor> SharedValue(const v1::Tensor& proto, const ir::Type& type,
                                            const std::string& what) {
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor value, ir::TensorFromProto(proto));
  TENSORD_RETURN_IF_ERROR(ir::CheckValueFitsType(value, type, what));
  return value;
}

}  // namespace

ComputeService::ComputeService(ServerConfig config,
                               std::unique_ptr<context::ContextRegistry> contexts, Metrics* metrics,
                               const Authenticator* auth)
    : config_(std::move(config)),
      metrics_(metrics),
      auth_(auth),
      contexts_(std::move(contexts)),
      sessions_(config_.session_idle_timeout, config_.session_limits),
      cache_(config_.cache_max_entries, config_.cache_max_bytes),
      functions_(contexts_.get(), &cache_, metrics, config_.max_message_bytes),
      // gRPC serves callbacks on about one thread per core: leave at least one of them free.
      max_inline_(std::max(0, static_cast<int>(std::thread::hardware_concurrency()) - 1)),
      pool_(config_.compute_threads > 0 ? config_.compute_threads
                                        : static_cast<int>(std::thread::hardware_concurrency())) {
  metrics_->SetSnapshotSource([this] { return Snapshot(); });
  Serve("GetServerInfo", &ComputeService::GetServerInfo, Threads::kInline);
  Serve("OpenSession", &ComputeService::OpenSession, Threads::kInline);
  Serve("CloseSession", &ComputeService::CloseSession, Threads::kInline);
  // Writes and fsyncs a snapshot: counted with the compute calls (see HandleCompute).
  Serve("SaveSession", &ComputeService::SaveSession, Threads::kCompute);
  Serve("CreateShared", &ComputeService::CreateShared, Threads::kInline);
  Serve("GetShared", &ComputeService::GetShared, Threads::kInline);
  Serve("SetShared", &ComputeService::SetShared, Threads::kInline);
  Serve("DeleteShared", &ComputeService::DeleteShared, Threads::kInline);
  Serve("ListShared", &ComputeService::ListShared, Threads::kInline);
  Serve("Differentiate", &ComputeService::Differentiate, Threads::kCompute);
  Serve("Compile", &ComputeService::Compile, Threads::kCompute);
  Serve("Run", &ComputeService::Run, Threads::kCompute);
  Serve("DescribeFunction", &ComputeService::DescribeFunction, Threads::kCompute);
  // Compute calls: a function restored from --state_dir compiles on first use, even here.
  Serve("GetProfile", &ComputeService::GetProfile, Threads::kCompute);
  Serve("ResetProfile", &ComputeService::ResetProfile, Threads::kCompute);
  Serve("ReleaseFunction", &ComputeService::ReleaseFunction, Threads::kInline);
  Serve("FetchRef", &ComputeService::FetchRef, Threads::kInline);
  Serve("ReleaseRefs", &ComputeService::ReleaseRefs, Threads::kInline);
  Serve("RegisterSharedMemory", &ComputeService::RegisterSharedMemory, Threads::kInline);
  Serve("UnregisterSharedMemory", &ComputeService::UnregisterSharedMemory, Threads::kInline);
  Serve("ListSessions", &ComputeService::ListSessions, Threads::kInline);
  Serve("ListFunctions", &ComputeService::ListFunctions, Threads::kInline);
  // A method left out would fall back to gRPC's synchronous default (UNIMPLEMENTED).
  const int declared = ComputeDescriptor().method_count();
  if (served_methods_ != declared) {
    throw std::logic_error(absl::StrCat("ComputeService serves ", served_methods_, " of the ",
                                        declared, " methods of tensord.v1.Compute"));
  }
}

// The metrics listener may outlive this service (it is torn down last), so stop it reading
// our state first; the session reaper outlives persistence_, so stop it calling into it.
ComputeService::~ComputeService() {
  metrics_->SetSnapshotSource(nullptr);
  sessions_.SetOnClosed(nullptr);
}

void ComputeService::EnableStateDir(std::unique_ptr<StateDir> dir,
                                    std::chrono::seconds snapshot_interval) {
  persistence_ =
      std::make_unique<Persistence>(std::move(dir), &sessions_, &functions_, contexts_.get());
  sessions_.SetOnClosed([this](std::shared_ptr<Session> gone) { persistence_->Forget(*gone); });
  persistence_->RestoreSessions();
  functions_.set_on_compiled([this](const std::string& key, const v1::FunctionSpec& spec,
                                    const std::map<std::string, SharedDecl>& shared) {
    persistence_->RememberCompiled(key, spec, shared);
  });
  cache_.set_on_evict([this](const std::string& key) {
    // Built again since it was evicted (the hook runs after the cache let go of its lock)?
    // Then its spec is current again.
    if (!cache_.contains(key)) persistence_->ForgetCompiled(key);
  });
  persistence_->WarmCache(config_.cache_max_entries);
  persistence_->Start(snapshot_interval);
}

void ComputeService::SaveState() {
  if (persistence_ != nullptr) persistence_->SaveChanged();
}

// Runs a handler, turning any escaped exception into a status: nothing a client sends may
// take the server down.
absl::Status ComputeService::Execute(Ctx* ctx, const char* method,
                                     const std::function<absl::Status()>& body,
                                     std::chrono::steady_clock::time_point start) {
  absl::Status status;
  try {
    status = body();
  } catch (const runtime::OutOfDeviceMemory& e) {
    status = absl::ResourceExhaustedError(absl::StrCat(method, ": ", e.what()));
  } catch (const std::bad_alloc&) {
    status = absl::ResourceExhaustedError(absl::StrCat(method, ": out of memory"));
  } catch (const std::exception& e) {
    status = absl::InternalError(absl::StrCat(method, ": ", e.what()));
  }
  // One line per RPC at debug level; never tensor data.
  if (spdlog::should_log(spdlog::level::debug)) {  // peer() allocates: only when logged
    spdlog::debug("{} from {} -> {}", method, ctx->peer(), status.ok() ? "OK" : status.ToString());
  }
  metrics_->RecordRpc(
      method, status.code(),
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return status;
}

ComputeService::Reactor* ComputeService::Handle(Ctx* ctx, const char* method,
                                                const std::function<absl::Status()>& body) {
  absl::Status status = Execute(ctx, method, body, std::chrono::steady_clock::now());
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

ComputeService::Reactor* ComputeService::HandleCompute(Ctx* ctx, const char* method,
                                                       std::function<absl::Status()> body) {
  if (inline_in_flight_.fetch_add(1) < max_inline_) {
    Reactor* reactor = Handle(ctx, method, body);
    inline_in_flight_.fetch_sub(1);
    return reactor;
  }
  inline_in_flight_.fetch_sub(1);
  auto* reactor = ctx->DefaultReactor();
  // gRPC keeps the call (ctx, request, response) alive until Finish, and server shutdown waits
  // for it, so the task may use them until its last statement.
  pool_.Post([this, ctx, method, reactor, body = std::move(body),
              start = std::chrono::steady_clock::now()] {
    reactor->Finish(ToGrpcStatus(Execute(ctx, method, body, start)));
  });
  return reactor;
}

template <class Request, class Response>
void ComputeService::Serve(const char* name, Method<Request, Response> method, Threads threads) {
  const google::protobuf::MethodDescriptor* m = ComputeDescriptor().FindMethodByName(name);
  // The generated service registers methods in declaration order, so the index addresses it.
  if (m == nullptr || m->input_type() != Request::descriptor() ||
      m->output_type() != Response::descriptor()) {
    throw std::logic_error(absl::StrCat("ComputeService::Serve: ", name,
                                        " does not match tensord.v1.Compute's declaration"));
  }
  ++served_methods_;
  auto handler = [this, name, method, threads](Ctx* ctx, const grpc::ByteBuffer* in,
                                               grpc::ByteBuffer* out) -> Reactor* {
    // Who is calling, before the call may queue for a compute thread with its bytes.
    absl::StatusOr<Principal> principal = auth_->Authenticate(*ctx);
    if (!principal.ok()) {
      return Handle(ctx, name, [&principal] { return principal.status(); });
    }
    auto body = [this, ctx, in, out, method, threads, caller = *std::move(principal)] {
      return Call<Request, Response>(ctx, caller, *in, out, method, threads);
    };
    return threads == Threads::kCompute ? HandleCompute(ctx, name, std::move(body))
                                        : Handle(ctx, name, body);
  };
  MarkMethodRawCallback(
      m->index(),
      new grpc::internal::CallbackUnaryHandler<grpc::ByteBuffer, grpc::ByteBuffer>(handler));
}

template <class Request, class Response>
absl::Status ComputeService::Call(Ctx* ctx, const Principal& principal, const grpc::ByteBuffer& in,
                                  grpc::ByteBuffer* out, Method<Request, Response> method,
                                  Threads threads) {
  std::optional<runtime::ScopedInterrupt> interrupt;
  if (threads == Threads::kCompute) {
    // Long work stops once the client's deadline passes or it cancels; a call that waited for
    // a thread past its deadline does not start at all.
    interrupt.emplace(CallInterrupt(*ctx));
    TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
  }
  Request request;
  Response response;
  TENSORD_RETURN_IF_ERROR(DecodeRequest(in, &request));
  TENSORD_RETURN_IF_ERROR(CheckEnumFields(request));
  TENSORD_RETURN_IF_ERROR((this->*method)(Caller{ctx, principal}, request, &response));
  return EncodeResponse(response, out);
}

MetricsSnapshot ComputeService::Snapshot() const {
  MetricsSnapshot s;
  s.cache_hits = cache_.hits();
  s.cache_misses = cache_.misses();
  s.cache_evictions = cache_.evictions();
  s.cache_entries = static_cast<int64_t>(cache_.size());
  s.cache_bytes = static_cast<int64_t>(cache_.bytes());
  // Every context gets a series, so a dashboard sees 0 rather than a gap.
  for (const auto& c : contexts_->all()) {
    s.shared_by_context[c->name];
    auto& memory = s.memory_by_context[c->name];
    memory.in_use_bytes = c->memory->in_use();
    memory.peak_bytes = c->memory->peak();
    if (c->blocks != nullptr) {
      const auto blocks = c->blocks->stats();
      memory.cached_bytes = blocks.cached_bytes;
      memory.reserved_bytes = blocks.reserved_bytes;
    }
    for (int d = 0; d < runtime::kTransferDirections; ++d)
      memory.transferred_bytes[d] =
          c->memory->transferred(static_cast<runtime::TransferDirection>(d));
  }
  auto sessions = sessions_.List();
  s.sessions = static_cast<int64_t>(sessions.size());
  for (const auto& session : sessions) {
    for (const auto& var : session->shared().List()) {
      auto& usage = s.shared_by_context[var->context()->name];
      ++usage.variables;
      usage.bytes += static_cast<int64_t>(var->Get().num_bytes());
    }
  }
  return s;
}

absl::Status ComputeService::GetServerInfo(const Caller& call, const v1::GetServerInfoRequest& req,
                                           v1::ServerInfo* out) {
  out->set_version(TENSORD_VERSION);
  for (const auto& c : contexts_->all()) {
    auto* info = out->add_contexts();
    info->set_name(c->name);
    info->set_device(c->device);
    info->set_description(c->description);
    info->set_available(c->unavailable.empty());
    info->set_memory_in_use_bytes(c->memory->in_use());
    info->set_memory_peak_bytes(c->memory->peak());
    info->set_memory_limit_bytes(c->memory->limit());
    if (c->blocks != nullptr) {
      const auto blocks = c->blocks->stats();
      info->set_memory_cached_bytes(blocks.cached_bytes);
      info->set_memory_reserved_bytes(blocks.reserved_bytes);
      info->set_device_memory_bytes(c->blocks->total_bytes());
    }
    using runtime::TransferDirection;
    info->set_transferred_host_to_device_bytes(
        c->memory->transferred(TransferDirection::kHostToDevice));
    info->set_transferred_device_to_host_bytes(
        c->memory->transferred(TransferDirection::kDeviceToHost));
    info->set_transferred_device_to_device_bytes(
        c->memory->transferred(TransferDirection::kDeviceToDevice));
  }
  out->set_default_context(contexts_->default_context().name);
  out->set_durable_sessions(persistence_ != nullptr);
  out->set_shared_memory(config_.shared_memory);
  out->set_vector_math_isa(vmath::Loops().isa);
  out->set_float_x(config_.float_x);
  out->set_sessions(sessions_.size());
  out->set_cache_entries(cache_.size());
  out->set_cache_hits(cache_.hits());
  out->set_cache_misses(cache_.misses());
  out->set_cache_bytes(static_cast<int64_t>(cache_.bytes()));
  out->set_cache_evictions(cache_.evictions());
  for (const ops::OpDef* def : ops::Registry::Global().All()) {
    out->add_ops(def->name);
    if (def->grad) out->add_differentiable_ops(def->name);
  }
  *out->mutable_op_schema() = ops::ExportOpSchema();
  return absl::OkStatus();
}

absl::Status ComputeService::OpenSession(const Caller& call, const v1::OpenSessionRequest& req,
                                         v1::OpenSessionResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Open(req.client(), call.principal));
  spdlog::info("{} opened by '{}' from {}", session->log_name(), session->client(),
               call.ctx->peer());
  out->set_session_id(session->id());
  out->set_idle_timeout_seconds(sessions_.idle_timeout().count());
  return absl::OkStatus();
}

absl::Status ComputeService::CloseSession(const Caller& call, const v1::CloseSessionRequest& req,
                                          v1::CloseSessionResponse*) {
  // With --state_dir the session's snapshots go too (SessionManager::SetOnClosed).
  return sessions_.Close(req.session_id(), call.principal.owner);
}

absl::Status ComputeService::SaveSession(const Caller& call, const v1::SaveSessionRequest& req,
                                         v1::SaveSessionResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  if (persistence_ == nullptr) {
    return FailedPrecondition("this server keeps no snapshots: start it with --state_dir");
  }
  TENSORD_ASSIGN_OR_RETURN(SavedSession saved, persistence_->Save(*session));
  out->set_bytes(saved.bytes);
  out->set_shared_variables(saved.shared_variables);
  out->set_functions(saved.functions);
  return absl::OkStatus();
}

absl::Status ComputeService::CreateShared(const Caller& call, const v1::CreateSharedRequest& req,
                                          v1::SharedInfo* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_ASSIGN_OR_RETURN(const context::Context* context,
                           contexts_->FindNameOrDevice(req.target()));
  // The value is its context's memory: decoded into it, or copied in where the host cannot write.
  runtime::ScopedMemoryContext memory_scope(runtime::HostWritable(context->memory));
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor value, ir::TensorFromProto(req.value()));
  ir::Type type = ir::Type::Of(value.dtype(), value.ndim());
  if (req.broadcastable_size() > 0) {
    type.broadcastable.assign(req.broadcastable().begin(), req.broadcastable().end());
  }
  TENSORD_RETURN_IF_ERROR(ir::CheckValueFitsType(value, type, "shared value"));
  TENSORD_ASSIGN_OR_RETURN(value, runtime::IntoContext(std::move(value), context->memory));
  TENSORD_ASSIGN_OR_RETURN(auto var,
                           session->shared().Create(req.name(), type, context, std::move(value)));
  FillSharedInfo(*var, out);
  return absl::OkStatus();
}

absl::Status ComputeService::GetShared(const Caller& call, const v1::GetSharedRequest& req,
                                       v1::GetSharedResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_ASSIGN_OR_RETURN(auto var, session->shared().Find(req.id()));
  FillSharedInfo(*var, out->mutable_info());
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor value, runtime::OnHost(var->Get()));
  ir::TensorToProto(value, out->mutable_value());
  return absl::OkStatus();
}

absl::Status ComputeService::SetShared(const Caller& call, const v1::SetSharedRequest& req,
                                       v1::SharedInfo* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_ASSIGN_OR_RETURN(auto var, session->shared().Find(req.id()));
  runtime::ScopedMemoryContext memory_scope(runtime::HostWritable(var->context()->memory));
  TENSORD_ASSIGN_OR_RETURN(
      runtime::Tensor value,
      SharedValue(req.value(), var->type(), absl::StrCat("new value of '", var->id(), "'")));
  TENSORD_ASSIGN_OR_RETURN(value, runtime::IntoContext(std::move(value), var->context()->memory));
  // Not in the middle of a run that updates this variable: that run's update would land on
  // top of this value and the caller's write would be lost without a trace.
  std::lock_guard<std::mutex> lock(var->update_mutex());
  TENSORD_RETURN_IF_ERROR(session->shared().CheckGrowth(
      static_cast<int64_t>(value.num_bytes()) - static_cast<int64_t>(var->Get().num_bytes())));
  var->Set(std::move(value));
  FillSharedInfo(*var, out);
  return absl::OkStatus();
}

absl::Status ComputeService::DeleteShared(const Caller& call, const v1::DeleteSharedRequest& req,
                                          v1::DeleteSharedResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_RETURN_IF_ERROR(session->shared().Delete(req.id()));
  return absl::OkStatus();
}

absl::Status ComputeService::ListShared(const Caller& call, const v1::ListSharedRequest& req,
                                        v1::ListSharedResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  for (const auto& var : session->shared().List()) FillSharedInfo(*var, out->add_shared());
  return absl::OkStatus();
}

absl::Status ComputeService::Differentiate(const Caller& call, const v1::DifferentiateRequest& req,
                                           v1::DifferentiateResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_RETURN_IF_ERROR(CheckGraphSize(req.graph(), config_.max_graph_nodes));
  return server::Differentiate(*session, req, *DTypeFromName(config_.float_x), out);
}

absl::Status ComputeService::Compile(const Caller& call, const v1::CompileRequest& req,
                                     v1::CompileResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_RETURN_IF_ERROR(CheckGraphSize(req.spec().graph(), config_.max_graph_nodes));
  return functions_.Compile(*session, req.spec(), out);
}

absl::Status ComputeService::Run(const Caller& call, const RunCall& run, RunReply* out) {
  const v1::RunRequest& req = run.message;
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  const bool uses_shared_memory =
      req.output_slots_size() > 0 ||
      std::any_of(req.args().begin(), req.args().end(), [](auto& a) { return a.has_shm(); });
  if (uses_shared_memory) TENSORD_RETURN_IF_ERROR(CheckSharedMemoryPeer(call));
  return functions_.Run(*session, run, out);
}

absl::Status ComputeService::DescribeFunction(const Caller& call,
                                              const v1::DescribeFunctionRequest& req,
                                              v1::DescribeFunctionResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return functions_.Describe(*session, req.function_id(), out);
}

absl::Status ComputeService::GetProfile(const Caller& call, const v1::GetProfileRequest& req,
                                        v1::GetProfileResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return functions_.GetProfile(*session, req, out);
}

absl::Status ComputeService::ResetProfile(const Caller& call, const v1::ResetProfileRequest& req,
                                          v1::ResetProfileResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return functions_.ResetProfile(*session, req.function_id());
}

absl::Status ComputeService::ReleaseFunction(const Caller& call,
                                             const v1::ReleaseFunctionRequest& req,
                                             v1::ReleaseFunctionResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return session->ReleaseFunction(req.function_id());
}

absl::Status ComputeService::FetchRef(const Caller& call, const v1::FetchRefRequest& req,
                                      v1::FetchRefResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return functions_.FetchRef(*session, req.id(), out);
}

absl::Status ComputeService::ReleaseRefs(const Caller& call, const v1::ReleaseRefsRequest& req,
                                         v1::ReleaseRefsResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return session->arrays().Release({req.ids().begin(), req.ids().end()}, req.ignore_unknown());
}

absl::Status ComputeService::CheckSharedMemoryPeer(const Caller& call) const {
  if (!config_.shared_memory) {
    return absl::PermissionDeniedError("this server runs with --shared_memory=off");
  }
  // A remote caller's object names would be read on this host, where they name nothing of the
  // caller's, or something of someone else's.
  if (!IsLocalPeer(call.ctx->peer())) {
    return absl::PermissionDeniedError(
        absl::StrCat("shared memory is for clients on the server's host; this call came from ",
                     call.ctx->peer()));
  }
  return absl::OkStatus();
}

absl::Status ComputeService::RegisterSharedMemory(const Caller& call,
                                                  const v1::RegisterSharedMemoryRequest& req,
                                                  v1::RegisterSharedMemoryResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  TENSORD_RETURN_IF_ERROR(CheckSharedMemoryPeer(call));
  return session->shared_memory().Register(req.name(), req.key(), req.offset(), req.byte_size(),
                                           req.proof());
}

absl::Status ComputeService::UnregisterSharedMemory(const Caller& call,
                                                    const v1::UnregisterSharedMemoryRequest& req,
                                                    v1::UnregisterSharedMemoryResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(auto session, sessions_.Find(req.session_id(), call.principal.owner));
  return session->shared_memory().Unregister(req.name());
}

absl::Status ComputeService::ListSessions(const Caller& call, const v1::ListSessionsRequest& req,
                                          v1::ListSessionsResponse* out) {
  TENSORD_RETURN_IF_ERROR(
      CheckAdmin(config_.enable_admin_rpcs, auth_->enabled(), call.principal, "ListSessions"));
  server::ListSessions(sessions_, out);
  return absl::OkStatus();
}

absl::Status ComputeService::ListFunctions(const Caller& call, const v1::ListFunctionsRequest& req,
                                           v1::ListFunctionsResponse* out) {
  TENSORD_RETURN_IF_ERROR(
      CheckAdmin(config_.enable_admin_rpcs, auth_->enabled(), call.principal, "ListFunctions"));
  return server::ListFunctions(sessions_, req.session_id(), out);
}

}  // namespace tensord::server
