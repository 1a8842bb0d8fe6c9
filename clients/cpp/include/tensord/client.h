// The tensord C++ client: connect, open a session, create shared variables, compile graphs built
// with GraphBuilder into functions, and run them.
//
//   auto client = Client::Connect("127.0.0.1:50051");
//   auto session = (*client)->OpenSession();
//   GraphBuilder g;
//   Var x = g.Vector("x"), y = g.Vector("y");
//   auto f = session->Compile(g, {x, y}, {x + y});
//   auto out = f->Run({HostTensor::Vector<float>({1, 2}), HostTensor::Vector<float>({3, 4})});
//
// Every call returns absl::Status / StatusOr carrying the server's gRPC code and message. Shared
// and Function keep their session's state alive, so using one after its Session is gone is a
// FAILED_PRECONDITION error rather than a dangling pointer.
#ifndef TENSORD_CLIENT_CLIENT_H_
#define TENSORD_CLIENT_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tensord/graph.h"
#include "tensord/ops.h"
#include "tensord/tensor.h"
#include "tensord/v1/compute.grpc.pb.h"

namespace tensord::client {

// gRPC and absl share code numbers; the message is kept as the server wrote it.
absl::Status FromGrpcStatus(const grpc::Status& status);

// The metadata key both clients send with every call of a session, OpenSession included: a
// random key the client picks before opening the session (not a credential), so that a proxy
// hashing on it (HAProxy `balance hdr(x-tensord-session)`, Envoy's RING_HASH) sends all of one
// session's calls to the replica that holds the session (deploy/, docs/operations.md).
inline constexpr char kSessionRoutingHeader[] = "x-tensord-session";

// Adds `authorization: Bearer <token>` to a call's metadata (nothing for an empty token): for
// RPCs made on Client::stub() directly against a server with --auth_tokens_file.
void Authorize(const std::string& token, grpc::ClientContext* context);

struct ClientOptions {
  // gRPC's 4 MiB default is far too small for tensors; applied to both directions.
  int max_message_bytes = 1 << 30;
  // Connect() waits this long for the channel to come up; zero means connect lazily.
  std::chrono::milliseconds connect_timeout{5000};
  // Deadline of each RPC; zero means none (compiling a large graph can take a while).
  std::chrono::milliseconds call_timeout{0};
  // Deadline of the CloseSession a Session destructor sends, so that teardown never hangs.
  std::chrono::milliseconds cleanup_timeout{5000};
  // Insecure when null. For a server with --tls_cert: grpc::SslCredentials({.pem_root_certs =
  // <the CA that signed it>}), plus pem_private_key/pem_cert_chain when it asks for client
  // certificates (--tls_client_ca).
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Bearer token sent with every call, for a server with --auth_tokens_file; empty: none.
  std::string token;
  // Sent with OpenSession; the server shows it in its logs.
  std::string client_name = "tensord-cpp";
  // Touch each open session every third of the server's idle timeout, so a quiet program does
  // not lose its session (and its shared variables) to expiry.
  bool keepalive = true;
};

namespace internal {
struct SessionCore;
}  // namespace internal

// A shared variable living in a session on the server (Theano's theano.shared). Copies are
// independent handles to the same variable; one handle is not meant for concurrent use.
class Shared {
 public:
  const ::tensord::v1::SharedInfo& info() const { return info_; }
  const std::string& id() const { return info_.id(); }
  const std::string& name() const { return info_.name(); }
  DType dtype() const { return info_.type().dtype(); }
  const std::string& context() const { return info_.context(); }
  // The shape as of the last call that returned it (creation, GetValue, SetValue).
  std::vector<int64_t> shape() const { return {info_.shape().begin(), info_.shape().end()}; }

  // This variable in a graph (the same Var however often it is asked for).
  Var In(GraphBuilder& graph) const { return graph.SharedVar(info_); }

  absl::StatusOr<HostTensor> GetValue();
  absl::Status SetValue(HostTensor value);
  absl::Status Delete();

 private:
  friend class Session;
  Shared(std::shared_ptr<internal::SessionCore> core, ::tensord::v1::SharedInfo info)
      : core_(std::move(core)), info_(std::move(info)) {}

  std::shared_ptr<internal::SessionCore> core_;
  ::tensord::v1::SharedInfo info_;
};

// An output a function left on a device context (Theano's GpuArray; TensorRef on the wire),
// resident in the session until the last copy of this handle is destroyed, Release() is called
// or the session closes. Passing it to another function of the same session uses it where it
// lives: the data never crosses to the client unless Fetch()ed. A moved-from handle is empty
// and may only be destroyed or assigned to.
class DeviceArray {
 public:
  const std::string& id() const;
  const std::string& context() const;  // dev0, ...
  DType dtype() const;
  std::vector<int64_t> shape() const;

  // Copies the value to the client (numpy.asarray of a GpuArray).
  absl::StatusOr<HostTensor> Fetch() const;
  // Frees it on the server now; every copy of the handle then answers NOT_FOUND.
  absl::Status Release();

 private:
  friend class Function;
  struct State;
  DeviceArray(std::shared_ptr<internal::SessionCore> core, ::tensord::v1::TensorRef ref);
  std::shared_ptr<State> state_;
};

// A tensor whose C-order, little-endian bytes lie in a SharedMemoryRegion: an input the caller
// wrote there, or an output Run wrote into a slot. `data` points into the region's mapping and
// is valid while the region lives.
struct ShmTensor {
  std::string region;
  int64_t offset = 0;
  DType dtype = ::tensord::v1::DT_INVALID;
  std::vector<int64_t> shape;
  const char* data = nullptr;
  int64_t available = 0;  // bytes from `data` to the end of what it may span

  // The bytes its shape spans; INVALID_ARGUMENT when they do not fit in `available`.
  absl::StatusOr<int64_t> ByteSize() const;
  // A copy of the bytes, as a HostTensor.
  absl::StatusOr<HostTensor> ToHost() const;
};

// Where Run may write an output: `byte_size` bytes from `offset` in a region (made by
// SharedMemoryRegion::Slot, which also records where the region is mapped here).
struct ShmSlot {
  std::string region;
  int64_t offset = 0;
  int64_t byte_size = 0;
  const char* region_data = nullptr;
};

// A POSIX shared-memory object of this process registered in a session, for a server on the
// same host (docs/operations.md, "Shared memory"): Run reads inputs the caller writes into it
// and writes outputs into its slots, without their bytes crossing in messages. Made by
// Session::CreateSharedMemory. Move-only; destroying it unregisters it (while its session is
// open) and unmaps it, so it must outlive the calls and the ShmTensors that use it. After a call
// that used it failed with UNAVAILABLE, DEADLINE_EXCEEDED or CANCELLED, the server may still be
// running that call and write its outputs: use another region, not this one's slots.
class SharedMemoryRegion {
 public:
  SharedMemoryRegion(SharedMemoryRegion&& other) noexcept;
  SharedMemoryRegion& operator=(SharedMemoryRegion&& other) noexcept;
  SharedMemoryRegion(const SharedMemoryRegion&) = delete;
  SharedMemoryRegion& operator=(const SharedMemoryRegion&) = delete;
  ~SharedMemoryRegion();

  const std::string& name() const { return name_; }
  char* data() const { return data_; }
  int64_t size() const { return size_; }

  // An input whose bytes the caller wrote at `offset` (the server checks they fit the region).
  ShmTensor Tensor(int64_t offset, DType dtype, std::vector<int64_t> shape) const;
  ShmSlot Slot(int64_t offset, int64_t byte_size) const {
    return {name_, offset, byte_size, data_};
  }

 private:
  friend class Session;
  SharedMemoryRegion(std::shared_ptr<internal::SessionCore> core, std::string name, char* data,
                     int64_t size)
      : core_(std::move(core)), name_(std::move(name)), data_(data), size_(size) {}

  std::shared_ptr<internal::SessionCore> core_;
  std::string name_;
  char* data_ = nullptr;
  int64_t size_ = 0;
};

// A function input or output: host bytes, a device array, or bytes in shared memory.
using Value = std::variant<HostTensor, DeviceArray, ShmTensor>;

// A handle to a compiled function; copies share it. Not released on destruction (a copy may
// still be in use); handles die with their session, or call Release() to drop one early.
class Function {
 public:
  const std::string& id() const { return response_.function_id(); }
  const std::string& fingerprint() const { return response_.fingerprint(); }
  bool cache_hit() const { return response_.cache_hit(); }
  int64_t compile_ns() const { return response_.compile_ns(); }
  int64_t node_count() const { return response_.node_count(); }
  const ::tensord::v1::CompileResponse& compile_response() const { return response_; }

  // One tensor per function input, in order; returns one per output, in host memory (outputs
  // the function leaves on a device are fetched). `run_ns`, when given, receives the
  // server-side run time. Safe to call from many threads.
  absl::StatusOr<std::vector<HostTensor>> Run(std::vector<HostTensor> inputs,
                                              int64_t* run_ns = nullptr) const;
  // Run with device arrays: inputs may be DeviceArrays of this session, and outputs the
  // function leaves on a device (transferred there by the graph) come back as DeviceArrays.
  // Inputs may also be ShmTensors; `output_slots[i]` (an empty region: none) asks for host
  // output i to be written there, and it comes back as a ShmTensor (or, larger than its slot,
  // as a HostTensor).
  absl::StatusOr<std::vector<Value>> Call(std::vector<Value> inputs, int64_t* run_ns = nullptr,
                                          const std::vector<ShmSlot>& output_slots = {}) const;

  absl::StatusOr<::tensord::v1::DescribeFunctionResponse> Describe() const;
  absl::StatusOr<std::string> Profile() const;
  absl::Status ResetProfile();
  absl::Status Release();

 private:
  friend class Session;
  Function(std::shared_ptr<internal::SessionCore> core, ::tensord::v1::CompileResponse response)
      : core_(std::move(core)), response_(std::move(response)) {}

  std::shared_ptr<internal::SessionCore> core_;
  ::tensord::v1::CompileResponse response_;
};

// theano.grad's keyword arguments.
struct GradOptions {
  std::vector<Var> consider_constant;
  std::vector<std::pair<Var, Var>> known_grads;  // (variable, its gradient)
  std::string disconnected_inputs = "raise";     // "raise", "warn" or "ignore"
  std::string return_disconnected = "zero";      // "zero" or "None"
  // Where "warn" messages go (ignored when null).
  std::vector<std::string>* warnings = nullptr;
};

// A server session; closed when this object is destroyed (or by Close()).
class Session {
 public:
  Session(Session&&) = default;
  Session& operator=(Session&& other);
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  ~Session();

  const std::string& id() const;
  int64_t idle_timeout_seconds() const;

  // Theano's shared(value, name, target=...). Empty broadcastable means none (Theano's default).
  absl::StatusOr<Shared> CreateShared(std::string name, HostTensor value, std::string target = "",
                                      std::vector<bool> broadcastable = {});
  absl::StatusOr<std::vector<Shared>> ListShared();

  // A shared-memory region of `byte_size` bytes (at least 16) for a server on this host: a new
  // POSIX object readable by this user only, mapped here, registered (with the random bytes that
  // show the server this process can read it) and unlinked. PERMISSION_DENIED from a server on
  // another host or run with --shared_memory=off.
  absl::StatusOr<SharedMemoryRegion> CreateSharedMemory(int64_t byte_size);

  absl::StatusOr<Function> Compile(::tensord::v1::FunctionSpec spec);
  absl::StatusOr<Function> Compile(const FunctionSpecBuilder& spec);
  // theano.function(inputs, outputs, updates=..., givens=...).
  absl::StatusOr<Function> Compile(const GraphBuilder& graph, std::vector<Var> inputs,
                                   std::vector<Var> outputs,
                                   std::vector<std::pair<Var, Var>> updates = {},
                                   std::vector<std::pair<Var, Var>> givens = {},
                                   FunctionOptions options = {});

  // Theano's T.grad(cost, wrt, ...): the server differentiates and the gradient nodes are merged
  // into cost's builder. Returns one Var per wrt entry; an invalid Var for a disconnected wrt
  // when options.return_disconnected is "None". `cost` may be an invalid Var when
  // options.known_grads seeds the backward pass.
  absl::StatusOr<std::vector<Var>> Grad(Var cost, const std::vector<Var>& wrt,
                                        const GradOptions& options = {});

  // Writes the session's snapshot to the server's --state_dir now (a restarted server restores
  // it: same session, shared variable and function ids). FAILED_PRECONDITION when the server
  // runs without --state_dir.
  absl::StatusOr<::tensord::v1::SaveSessionResponse> Save();

  absl::Status Close();

 private:
  friend class Client;
  explicit Session(std::shared_ptr<internal::SessionCore> core) : core_(std::move(core)) {}

  std::shared_ptr<internal::SessionCore> core_;
};

class Client {
 public:
  static absl::StatusOr<std::unique_ptr<Client>> Connect(std::string address,
                                                         ClientOptions options = {});

  absl::StatusOr<::tensord::v1::ServerInfo> GetServerInfo();
  absl::StatusOr<Session> OpenSession();

  const std::string& address() const { return address_; }
  // For RPCs this class does not wrap; the stub is safe to share between threads.
  ::tensord::v1::Compute::Stub& stub() { return *stub_; }

 private:
  Client(std::string address, ClientOptions options, std::shared_ptr<grpc::Channel> channel);

  std::string address_;
  ClientOptions options_;
  std::shared_ptr<grpc::Channel> channel_;
  std::shared_ptr<::tensord::v1::Compute::Stub> stub_;
};

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_CLIENT_H_
