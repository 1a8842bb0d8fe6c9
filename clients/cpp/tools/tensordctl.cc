// tensordctl: a command-line tool for a running tensord server, built on the C++ client.
//
//   tensordctl [--address=HOST:PORT] [--timeout_ms=N] COMMAND [ARGS]
//
//   info                        server version, contexts, floatX, sessions, compile cache stats
//   health                      grpc.health.v1 Check; exit 0 when SERVING
//   shared SESSION              the shared variables of a session (ListShared)
//   describe SESSION FUNCTION   a compiled function's debugprint (DescribeFunction)
//   profile SESSION FUNCTION    a function's profile summary (GetProfile)
//   sessions                    every open session (ListSessions; admin, see below)
//   functions SESSION           a session's compiled functions (ListFunctions; admin)
//
// sessions and functions need a server started with --enable_admin_rpcs (they reveal other
// clients' session ids); otherwise the server answers PERMISSION_DENIED naming the flag.
//
// Exit codes: 0 success, 1 the server answered with an error (or is not SERVING), 2 usage error,
// 3 the server could not be reached.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/status/status.h"
#include "absl/strings/str_join.h"
#include "tensord/client.h"

ABSL_FLAG(std::string, address, "127.0.0.1:50051", "the tensord server (host:port)");
ABSL_FLAG(int64_t, timeout_ms, 5000, "connect timeout and per-call deadline, in milliseconds");
ABSL_FLAG(std::string, tls_ca, "",
          "PEM file of the CA that signed the server's certificate: connect over TLS");
ABSL_FLAG(std::string, token, "",
          "bearer token for a server with --auth_tokens_file (default: $TENSORD_TOKEN)");

namespace {

namespace v1 = ::tensord::v1;
using tensord::client::Client;

constexpr int kUsage = 2;
constexpr int kUnreachable = 3;

constexpr char kUsageText[] =
    "tensordctl [--address=HOST:PORT] [--timeout_ms=N] [--tls_ca=PEM] [--token=T] COMMAND "
    "[ARGS]\n"
    "commands:\n"
    "  info                        version, contexts, floatX, sessions, cache stats\n"
    "  health                      grpc.health.v1 Check; exit 0 when SERVING\n"
    "  shared SESSION              a session's shared variables\n"
    "  describe SESSION FUNCTION   a compiled function's debugprint\n"
    "  profile SESSION FUNCTION    a function's profile summary\n"
    "  sessions                    open sessions (server needs --enable_admin_rpcs)\n"
    "  functions SESSION           a session's functions (server needs --enable_admin_rpcs)\n";

std::string Token() {
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty()) {
    if (const char* env = std::getenv("TENSORD_TOKEN")) token = env;
  }
  return token;
}

// Insecure, or TLS verified against --tls_ca.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> Credentials() {
  const std::string path = absl::GetFlag(FLAGS_tls_ca);
  if (path.empty()) return grpc::InsecureChannelCredentials();
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError("cannot read --tls_ca " + path);
  std::stringstream pem;
  pem << in.rdbuf();
  return grpc::SslCredentials({.pem_root_certs = pem.str()});
}

std::chrono::milliseconds Timeout() {
  return std::chrono::milliseconds(absl::GetFlag(FLAGS_timeout_ms));
}

int Error(const absl::Status& status) {
  std::cerr << "tensordctl: " << absl::StatusCodeToString(status.code()) << ": " << status.message()
            << "\n";
  return status.code() == absl::StatusCode::kUnavailable ||
                 status.code() == absl::StatusCode::kDeadlineExceeded
             ? kUnreachable
             : 1;
}

// Runs one unary RPC on the client's stub with the --timeout_ms deadline.
template <typename Request, typename Response, typename Method>
absl::Status Call(Client& client, Method method, const Request& request, Response* response) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Timeout());
  tensord::client::Authorize(Token(), &context);
  return tensord::client::FromGrpcStatus((client.stub().*method)(&context, request, response));
}

std::string Shape(const v1::SharedInfo& s) {
  std::vector<std::string> dims;
  for (int64_t d : s.shape()) dims.push_back(std::to_string(d));
  return "(" + absl::StrJoin(dims, ", ") + (dims.size() == 1 ? ",)" : ")");
}

int Info(Client& client) {
  auto info = client.GetServerInfo();
  if (!info.ok()) return Error(info.status());
  std::printf("version:          %s\n", info->version().c_str());
  std::printf("address:          %s\n", client.address().c_str());
  std::printf("floatX:           %s\n", info->float_x().c_str());
  std::printf("default context:  %s\n", info->default_context().c_str());
  std::printf("contexts:\n");
  for (const auto& c : info->contexts()) {
    std::printf("  %s -> %s  %s  (memory in use %lld B, peak %lld B", c.name().c_str(),
                c.device().c_str(), c.description().c_str(),
                static_cast<long long>(c.memory_in_use_bytes()),
                static_cast<long long>(c.memory_peak_bytes()));
    if (c.memory_limit_bytes() > 0) {
      std::printf(", limit %lld B", static_cast<long long>(c.memory_limit_bytes()));
    }
    if (c.device_memory_bytes() > 0) {  // a device allocator's
      std::printf(", cached %lld B, preallocated %lld B of the device's %lld B",
                  static_cast<long long>(c.memory_cached_bytes()),
                  static_cast<long long>(c.memory_reserved_bytes()),
                  static_cast<long long>(c.device_memory_bytes()));
    }
    std::printf(")\n");
  }
  std::printf("sessions:         %lld\n", static_cast<long long>(info->sessions()));
  std::printf("cache entries:    %lld\n", static_cast<long long>(info->cache_entries()));
  std::printf("cache hits:       %lld\n", static_cast<long long>(info->cache_hits()));
  std::printf("cache misses:     %lld\n", static_cast<long long>(info->cache_misses()));
  std::printf("cache bytes:      %lld\n", static_cast<long long>(info->cache_bytes()));
  std::printf("cache evictions:  %lld\n", static_cast<long long>(info->cache_evictions()));
  std::printf("ops:              %d (%d differentiable)\n", info->ops_size(),
              info->differentiable_ops_size());
  return 0;
}

// grpc.health.v1.Health/Check through a generic stub, so that no health proto is needed: the
// request (service "") encodes to zero bytes; the response is field 1, a varint (1 = SERVING).
int Health(const std::string& address) {
  auto credentials = Credentials();
  if (!credentials.ok()) return Error(credentials.status());
  auto channel = grpc::CreateChannel(address, *credentials);
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Timeout());
  grpc::ByteBuffer request, response;
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                 [&](grpc::Status s) {
                   std::lock_guard<std::mutex> lock(mu);
                   status = std::move(s);
                   done = true;
                   cv.notify_one();
                 });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  if (!status.ok()) {
    return Error(absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                              "health check of " + address + " failed: " + status.error_message()));
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  int serving_status = 0;  // UNKNOWN; an empty message means the default value
  if (bytes.size() >= 2 && bytes[0] == 0x08) serving_status = static_cast<unsigned char>(bytes[1]);
  static const char* kNames[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
  const char* name = serving_status >= 0 && serving_status < 4 ? kNames[serving_status] : "?";
  std::printf("%s\n", name);
  return serving_status == 1 ? 0 : 1;
}

int ListShared(Client& client, const std::string& session) {
  v1::ListSharedRequest request;
  request.set_session_id(session);
  v1::ListSharedResponse response;
  absl::Status s = Call(client, &v1::Compute::Stub::ListShared, request, &response);
  if (!s.ok()) return Error(s);
  for (const auto& v : response.shared()) {
    std::printf("%s\t%s\t%s\t%s\t%s\n", v.id().c_str(), v.name().c_str(),
                v1::DType_Name(v.type().dtype()).c_str(), Shape(v).c_str(), v.context().c_str());
  }
  return 0;
}

int Describe(Client& client, const std::string& session, const std::string& function) {
  v1::DescribeFunctionRequest request;
  request.set_session_id(session);
  request.set_function_id(function);
  v1::DescribeFunctionResponse response;
  absl::Status s = Call(client, &v1::Compute::Stub::DescribeFunction, request, &response);
  if (!s.ok()) return Error(s);
  std::fputs(response.debugprint().c_str(), stdout);
  return 0;
}

int Profile(Client& client, const std::string& session, const std::string& function) {
  v1::GetProfileRequest request;
  request.set_session_id(session);
  request.set_function_id(function);
  v1::GetProfileResponse response;
  absl::Status s = Call(client, &v1::Compute::Stub::GetProfile, request, &response);
  if (!s.ok()) return Error(s);
  std::fputs(response.summary().c_str(), stdout);
  return 0;
}

std::string UtcTime(int64_t unix_s) {
  std::time_t t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
  return text;
}

int Sessions(Client& client) {
  v1::ListSessionsResponse response;
  absl::Status s =
      Call(client, &v1::Compute::Stub::ListSessions, v1::ListSessionsRequest(), &response);
  if (!s.ok()) return Error(s);
  std::printf("%-32s  %-16s  %-19s  %-19s  %9s  %6s  %12s  %13s\n", "SESSION", "CLIENT",
              "CREATED (UTC)", "LAST USED (UTC)", "FUNCTIONS", "SHARED", "SHARED BYTES",
              "DEVICE ARRAYS");
  for (const auto& x : response.sessions()) {
    std::printf("%-32s  %-16s  %-19s  %-19s  %9lld  %6lld  %12lld  %13lld\n",
                x.session_id().c_str(), x.client().c_str(), UtcTime(x.created_unix_s()).c_str(),
                UtcTime(x.last_used_unix_s()).c_str(), static_cast<long long>(x.functions()),
                static_cast<long long>(x.shared_variables()),
                static_cast<long long>(x.shared_bytes()),
                static_cast<long long>(x.device_arrays()));
  }
  return 0;
}

int Functions(Client& client, const std::string& session) {
  v1::ListFunctionsRequest request;
  request.set_session_id(session);
  v1::ListFunctionsResponse response;
  absl::Status s = Call(client, &v1::Compute::Stub::ListFunctions, request, &response);
  if (!s.ok()) return Error(s);
  std::printf("%-10s  %-20s  %-16s  %8s  %6s  %-8s  %s\n", "FUNCTION", "NAME", "FINGERPRINT",
              "CALLS", "NODES", "CONTEXT", "PROFILED");
  for (const auto& f : response.functions()) {
    // The first 16 hex digits identify an executable well enough in a table.
    std::printf("%-10s  %-20s  %-16s  %8lld  %6lld  %-8s  %s\n", f.function_id().c_str(),
                f.name().empty() ? "-" : f.name().c_str(), f.fingerprint().substr(0, 16).c_str(),
                static_cast<long long>(f.calls()), static_cast<long long>(f.node_count()),
                f.context().c_str(), f.profiled() ? "yes" : "no");
  }
  return 0;
}

int Usage(const std::string& why) {
  std::cerr << "tensordctl: " << why << "\n" << kUsageText;
  return kUsage;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(kUsageText);
  std::vector<char*> positional = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> args(positional.begin() + 1, positional.end());
  if (args.empty()) return Usage("no command given");
  const std::string& command = args[0];
  const std::string address = absl::GetFlag(FLAGS_address);

  auto want = [&](size_t n) { return args.size() == n + 1; };
  if (command == "health") {
    if (!want(0)) return Usage("health takes no arguments");
    return Health(address);
  }
  bool known = ((command == "info" || command == "sessions") && want(0)) ||
               ((command == "shared" || command == "functions") && want(1)) ||
               ((command == "describe" || command == "profile") && want(2));
  if (!known) {
    if (command == "info" || command == "shared" || command == "describe" || command == "profile" ||
        command == "sessions" || command == "functions") {
      return Usage("wrong number of arguments for " + command);
    }
    return Usage("unknown command '" + command + "'");
  }

  tensord::client::ClientOptions options;
  options.connect_timeout = Timeout();
  options.call_timeout = Timeout();
  options.client_name = "tensordctl";
  options.token = Token();
  auto credentials = Credentials();
  if (!credentials.ok()) return Error(credentials.status());
  options.credentials = *credentials;
  auto client = Client::Connect(address, options);
  if (!client.ok()) return Error(client.status());
  if (command == "info") return Info(**client);
  if (command == "shared") return ListShared(**client, args[1]);
  if (command == "sessions") return Sessions(**client);
  if (command == "functions") return Functions(**client, args[1]);
  if (command == "describe") return Describe(**client, args[1], args[2]);
  return Profile(**client, args[1], args[2]);
}
