#include "tensord/client.h"

#include <algorithm>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "src/rpc.h"

namespace tensord::client {

using internal::SessionCore;
namespace v1 = ::tensord::v1;

void Authorize(const std::string& token, grpc::ClientContext* context) {
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

namespace internal {

std::string NewRoutingKey() {
  std::random_device random;
  return absl::StrFormat("%08x%08x%08x%08x", random(), random(), random(), random());
}

Keepalive::Keepalive(std::shared_ptr<v1::Compute::Stub> stub, std::string session_id,
                     std::string token, std::string routing_key, std::chrono::milliseconds period) {
  thread_ = std::thread([this, stub = std::move(stub), id = std::move(session_id),
                         token = std::move(token), routing_key = std::move(routing_key), period] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_cv_.wait_for(lock, period, [this] { return stopping_; })) {
      lock.unlock();
      v1::ListSharedRequest request;
      request.set_session_id(id);
      v1::ListSharedResponse response;
      // A failure (server restarting, network) is retried next period; the session's own calls
      // report errors to their callers.
      Call(*stub, &v1::Compute::Stub::ListShared, request, &response, std::chrono::seconds(5),
           token, routing_key)
          .IgnoreError();
      lock.lock();
    }
  });
}

Keepalive::~Keepalive() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  thread_.join();
}

}  // namespace internal

Client::Client(std::string address, ClientOptions options, std::shared_ptr<grpc::Channel> channel)
    : address_(std::move(address)),
      options_(std::move(options)),
      channel_(std::move(channel)),
      stub_(v1::Compute::NewStub(channel_)) {}

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(std::string address,
                                                        ClientOptions options) {
  if (address.empty()) return absl::InvalidArgumentError("Client::Connect: empty address");
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(options.max_message_bytes);
  args.SetMaxSendMessageSize(options.max_message_bytes);
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      options.credentials ? options.credentials : grpc::InsecureChannelCredentials();
  std::shared_ptr<grpc::Channel> channel = grpc::CreateCustomChannel(address, credentials, args);
  // Failing here, with the address in the message, beats a vague UNAVAILABLE on the first call.
  if (options.connect_timeout.count() > 0 &&
      !channel->WaitForConnected(std::chrono::system_clock::now() + options.connect_timeout)) {
    return absl::UnavailableError(absl::StrCat("could not connect to tensord at ", address,
                                               " within ", options.connect_timeout.count(), " ms"));
  }
  return std::unique_ptr<Client>(new Client(std::move(address), std::move(options), channel));
}

absl::StatusOr<v1::ServerInfo> Client::GetServerInfo() {
  v1::ServerInfo info;
  absl::Status s =
      internal::Call(*stub_, &v1::Compute::Stub::GetServerInfo, v1::GetServerInfoRequest(), &info,
                     options_.call_timeout, options_.token);
  if (!s.ok()) return s;
  return info;
}

absl::StatusOr<Session> Client::OpenSession() {
  v1::OpenSessionRequest request;
  request.set_client(options_.client_name);
  v1::OpenSessionResponse response;
  // Chosen before the session exists, so a proxy routes OpenSession where its calls will go; a
  // key that lands on a replica that is down (UNAVAILABLE) is replaced by one that lands
  // elsewhere (docs/operations.md, "Scale-out").
  std::string routing_key;
  absl::Status s;
  for (int attempt = 0; attempt < 10; ++attempt) {
    routing_key = internal::NewRoutingKey();
    s = internal::Call(*stub_, &v1::Compute::Stub::OpenSession, request, &response,
                       options_.call_timeout, options_.token, routing_key);
    // Only the proxy's 503 (no server saw the call); another UNAVAILABLE may come after the
    // server opened the session.
    if (s.code() != absl::StatusCode::kUnavailable ||
        s.message().find("status: 503") == absl::string_view::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * (attempt + 1)));
  }
  if (!s.ok()) return s;
  auto core = std::make_shared<SessionCore>();
  core->stub = stub_;
  core->options = options_;
  core->session_id = response.session_id();
  core->routing_key = std::move(routing_key);
  core->idle_timeout_seconds = response.idle_timeout_seconds();
  if (options_.keepalive && core->idle_timeout_seconds > 0) {
    // A third of the timeout: two touches can fail before the server gives up on the session.
    core->keepalive = std::make_unique<internal::Keepalive>(
        stub_, core->session_id, options_.token, core->routing_key,
        std::max<std::chrono::milliseconds>(std::chrono::seconds(core->idle_timeout_seconds) / 3,
                                            std::chrono::milliseconds(500)));
  }
  return Session(std::move(core));
}

Session& Session::operator=(Session&& other) {
  if (this != &other) {
    Close().IgnoreError();
    core_ = std::move(other.core_);
  }
  return *this;
}

Session::~Session() { Close().IgnoreError(); }

const std::string& Session::id() const {
  static const std::string kEmpty;
  return core_ ? core_->session_id : kEmpty;
}

int64_t Session::idle_timeout_seconds() const { return core_ ? core_->idle_timeout_seconds : 0; }

absl::Status Session::Close() {
  // A moved-from or already closed session has nothing to close.
  if (!core_ || core_->closed.exchange(true)) return absl::OkStatus();
  core_->keepalive.reset();
  v1::CloseSessionRequest request;
  request.set_session_id(core_->session_id);
  v1::CloseSessionResponse response;
  return internal::Call(*core_->stub, &v1::Compute::Stub::CloseSession, request, &response,
                        core_->options.cleanup_timeout, core_->options.token, core_->routing_key);
}

absl::StatusOr<Shared> Session::CreateShared(std::string name, HostTensor value, std::string target,
                                             std::vector<bool> broadcastable) {
  if (!core_) return absl::FailedPreconditionError("CreateShared on a moved-from Session");
  if (!value.valid()) return absl::InvalidArgumentError("CreateShared: invalid HostTensor");
  v1::CreateSharedRequest request;
  request.set_name(std::move(name));
  *request.mutable_value() = std::move(value).ToProto();
  request.set_target(std::move(target));
  request.mutable_broadcastable()->Add(broadcastable.begin(), broadcastable.end());
  v1::SharedInfo info;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::CreateShared, request, &info);
  if (!s.ok()) return s;
  return Shared(core_, std::move(info));
}

absl::StatusOr<v1::SaveSessionResponse> Session::Save() {
  if (!core_) return absl::FailedPreconditionError("Save on a moved-from Session");
  v1::SaveSessionRequest request;
  v1::SaveSessionResponse response;
  absl::Status s =
      internal::SessionCall(*core_, &v1::Compute::Stub::SaveSession, request, &response);
  if (!s.ok()) return s;
  return response;
}

absl::StatusOr<std::vector<Shared>> Session::ListShared() {
  if (!core_) return absl::FailedPreconditionError("ListShared on a moved-from Session");
  v1::ListSharedRequest request;
  v1::ListSharedResponse response;
  absl::Status s =
      internal::SessionCall(*core_, &v1::Compute::Stub::ListShared, request, &response);
  if (!s.ok()) return s;
  std::vector<Shared> out;
  for (v1::SharedInfo& info : *response.mutable_shared()) out.push_back(Shared(core_, info));
  return out;
}

absl::StatusOr<Function> Session::Compile(v1::FunctionSpec spec) {
  if (!core_) return absl::FailedPreconditionError("Compile on a moved-from Session");
  v1::CompileRequest request;
  *request.mutable_spec() = std::move(spec);
  v1::CompileResponse response;
  absl::Status s = internal::SessionCall(*core_, &v1::Compute::Stub::Compile, request, &response);
  if (!s.ok()) return s;
  return Function(core_, std::move(response));
}

absl::StatusOr<Function> Session::Compile(const FunctionSpecBuilder& spec) {
  absl::StatusOr<v1::FunctionSpec> built = spec.Build();
  if (!built.ok()) return built.status();
  return Compile(*std::move(built));
}

absl::StatusOr<Function> Session::Compile(const GraphBuilder& graph, std::vector<Var> inputs,
                                          std::vector<Var> outputs,
                                          std::vector<std::pair<Var, Var>> updates,
                                          std::vector<std::pair<Var, Var>> givens,
                                          FunctionOptions options) {
  FunctionSpecBuilder spec(graph);
  spec.Inputs(std::move(inputs)).Outputs(std::move(outputs)).Options(std::move(options));
  for (const auto& [shared, value] : updates) spec.Update(shared, value);
  for (const auto& [variable, value] : givens) spec.Given(variable, value);
  return Compile(spec);
}

absl::StatusOr<std::vector<Var>> Session::Grad(Var cost, const std::vector<Var>& wrt,
                                               const GradOptions& options) {
  if (!core_) return absl::FailedPreconditionError("Grad on a moved-from Session");
  GraphBuilder* graph = cost.valid()                  ? cost.builder()
                        : options.known_grads.empty() ? nullptr
                                                      : options.known_grads[0].first.builder();
  if (!graph) return absl::InvalidArgumentError("Grad: cost is not a valid variable");
  std::vector<Var> roots = wrt;
  roots.insert(roots.end(), options.consider_constant.begin(), options.consider_constant.end());
  for (const auto& [var, g] : options.known_grads) {
    roots.push_back(var);
    roots.push_back(g);
  }
  std::vector<Var> outputs;
  if (cost.valid()) outputs.push_back(cost);
  // Send only what the cost needs; its symbolic inputs are the graph's inputs.
  absl::StatusOr<v1::Graph> sent = graph->Build({}, outputs, roots);
  if (!sent.ok()) return sent.status();
  for (const v1::Variable& v : sent->variables()) {
    if (v.has_input()) sent->add_inputs(v.id());
  }
  v1::DifferentiateRequest request;
  *request.mutable_graph() = *sent;
  if (cost.valid()) request.set_cost(cost.id());
  for (Var w : wrt) request.add_wrt(w.id());
  for (Var c : options.consider_constant) request.add_consider_constant(c.id());
  for (const auto& [var, g] : options.known_grads) {
    v1::KnownGrad* k = request.add_known_grads();
    k->set_variable(var.id());
    k->set_gradient(g.id());
  }
  request.set_disconnected_inputs(options.disconnected_inputs);
  request.set_return_disconnected(options.return_disconnected);
  request.set_float_dtype(static_cast<v1::DType>(graph->float_x()));
  v1::DifferentiateResponse response;
  absl::Status s =
      internal::SessionCall(*core_, &v1::Compute::Stub::Differentiate, request, &response);
  if (!s.ok()) return s;
  if (response.gradients_size() != static_cast<int>(wrt.size())) {
    return absl::InternalError(absl::StrCat("Differentiate returned ", response.gradients_size(),
                                            " gradients for ", wrt.size(), " variables"));
  }
  if (options.warnings != nullptr)
    options.warnings->assign(response.warnings().begin(), response.warnings().end());
  std::vector<int64_t> connected;
  for (int64_t id : response.gradients())
    if (id >= 0) connected.push_back(id);
  absl::StatusOr<std::vector<Var>> imported = graph->Import(*sent, response.graph(), connected);
  if (!imported.ok()) return imported.status();
  std::vector<Var> out;
  size_t next = 0;
  for (int64_t id : response.gradients()) out.push_back(id >= 0 ? (*imported)[next++] : Var());
  return out;
}

}  // namespace tensord::client
