// tensord: the compute server. Flags follow Theano's names where Theano has one.
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/backends/cpu/blas.h"
#include "engine/ops/op_def.h"
#include "engine/ops/op_schema.h"
#include "engine/ops/scalar/vector_math.h"
#include "engine/runtime/host_allocator.h"
#include "engine/runtime/parallel.h"
#include "engine/runtime/tensor.h"
#include "server/compute_service.h"
#include "server/config_file.h"
#include "server/metrics.h"
#include "server/rpc_codec.h"
#include "server/state_dir.h"
#include "server/transport_security.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "address to serve on (host:port; port 0 picks one)");
ABSL_FLAG(std::string, device, "cpu",
          "default context: cpu, cuda, cudaN, sim, simN or a name from --contexts");
ABSL_FLAG(std::string, contexts, "", "named contexts in Theano syntax, e.g. dev0->cuda0;dev1->cpu");
ABSL_FLAG(bool, contexts_optional, false,
          "list contexts on GPUs this server does not see as unavailable (their use is "
          "FAILED_PRECONDITION) instead of refusing to start");
ABSL_FLAG(int64_t, device_memory_limit, 0,
          "most bytes of tensor buffers each device context may hold at once (0: no limit); an "
          "allocation past it fails the call with RESOURCE_EXHAUSTED naming the context");
ABSL_FLAG(double, preallocate, 0,
          "device memory (Theano's gpuarray.preallocate), for each device with an allocator "
          "(simulated devices; CUDA ones with their kernels): 0 keeps freed blocks for reuse; "
          "(0, 1] preallocates that fraction of the device's memory at start (at most 0.95), "
          "more than 1 that many MiB; negative turns the caching off");
ABSL_FLAG(int64_t, sim_device_memory_mb, 16384, "the memory of each simulated device (simN)");
ABSL_FLAG(bool, sim_device_memory_separate, false,
          "the server reaches simulated devices' memory only through copies, as a GPU's (the "
          "host's kernels running there still read it): runs the paths a GPU takes without one");
ABSL_FLAG(std::string, floatX, "float32",
          "default float type reported to clients (float32|float64)");
ABSL_FLAG(std::string, log_level, "info", "trace, debug, info, warn, error, critical or off");
ABSL_FLAG(std::string, port_file, "", "after startup, write the bound port to this file");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "address for Prometheus metrics at /metrics (host:port; port 0 picks one; empty "
          "disables)");
ABSL_FLAG(std::string, metrics_port_file, "",
          "after startup, write the bound metrics port to this file");
ABSL_FLAG(int64_t, session_idle_timeout_s, 3600, "close sessions idle for this many seconds");
ABSL_FLAG(int64_t, max_message_bytes, 1 << 30, "largest gRPC message accepted or sent");
ABSL_FLAG(int64_t, cache_max_entries, 1024, "compiled executables kept in the cache");
ABSL_FLAG(int64_t, cache_max_bytes, int64_t{1} << 30,
          "approximate bytes of compiled executables (constants included) the cache keeps; "
          "least recently used ones no function holds are evicted beyond it");
ABSL_FLAG(int64_t, max_tensor_bytes, int64_t{8} << 30,
          "largest single tensor a request may create; larger ones fail with RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, host_cache_bytes, tensord::runtime::HostAllocator::kDefaultCacheBytes,
          "bytes of freed host tensor buffers kept for reuse, so that a loop of runs takes its "
          "buffers from them instead of the system (0: keep none)");
ABSL_FLAG(std::string, gemm_library, "auto",
          "library for matrix products: auto (time OpenBLAS against oneDNN for float32, "
          "against Eigen for float64, on the first product of each shape and keep the faster), "
          "openblas (all), onednn (float32 ones) or eigen (float64 ones; AVX-512 CPUs)");
ABSL_FLAG(std::string, vector_math_isa, "auto",
          "instruction set of the vectorized transcendental functions (exp, tanh, ...): auto "
          "(the widest this CPU has), avx512f, avx2 or sse2; results may differ in the last "
          "place between sets, so naming one reproduces another machine's bits");
ABSL_FLAG(std::string, shared_memory, "local",
          "local: clients on this host (loopback or a Unix socket) may pass tensors through POSIX "
          "shared memory they register (RegisterSharedMemory); off: no client may");
ABSL_FLAG(std::string, config, "",
          "file of flag settings, one 'name = value' (or '--name=value') per line, '#' "
          "comments; flags given on the command line override it");
ABSL_FLAG(int32_t, compute_threads, 0,
          "threads for Run, Compile and Differentiate calls beyond the cores - 1 that run on "
          "gRPC's threads (0: one per core), so other RPCs stay answerable while they compute");
ABSL_FLAG(int32_t, intra_op_threads, 0,
          "threads one big kernel (a fused elementwise loop, a large elementwise op) splits its "
          "work over, the calling one included (0: one per core; 1: no splitting)");
ABSL_FLAG(bool, enable_admin_rpcs, false,
          "serve the admin RPCs ListSessions and ListFunctions (tensordctl sessions / functions); "
          "off by default because they reveal other clients' session ids");
ABSL_FLAG(int64_t, max_graph_nodes, 1000000,
          "most nodes (applies, inner graphs included) a Compile or Differentiate graph may hold; "
          "0: no limit");
ABSL_FLAG(int64_t, max_sessions, 10000, "most sessions open at once; 0: no limit");
ABSL_FLAG(int64_t, max_functions_per_session, 10000,
          "most compiled functions one session may hold; 0: no limit");
ABSL_FLAG(int64_t, max_shared_bytes_per_session, 0,
          "most bytes of shared variable values one session may hold; 0: no limit");
ABSL_FLAG(int64_t, tenant_max_sessions, 0,
          "most sessions one tenant (--auth_tokens_file) may have open at once; 0: no limit");
ABSL_FLAG(int64_t, tenant_memory_quota, 0,
          "most bytes of shared variable values all of one tenant's sessions may hold; 0: no "
          "limit");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain: serve gRPC over TLS (with --tls_key)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_client_ca, "",
          "PEM CA certificates: require client certificates signed by them (mutual TLS)");
ABSL_FLAG(std::string, auth_tokens_file, "",
          "bearer tokens, one per line: TOKEN [TENANT [admin]]; reloaded on SIGHUP. Each call "
          "must carry 'authorization: Bearer TOKEN'; a session belongs to the token that opened "
          "it");
ABSL_FLAG(bool, insecure, false,
          "allow a non-loopback --listen without TLS and tokens (anyone who can reach the port "
          "can use the server)");
ABSL_FLAG(std::string, state_dir, "",
          "directory for session snapshots and compile-cache specs: sessions survive restarts "
          "(empty: sessions live in memory only)");
ABSL_FLAG(int64_t, snapshot_interval_s, 30,
          "with --state_dir, snapshot the sessions that changed this often (0: only on "
          "SaveSession and at shutdown)");
ABSL_FLAG(bool, print_ops_markdown, false, "print the op table (docs/ops.md) and exit");
ABSL_FLAG(bool, print_op_schema, false,
          "print the op schema as JSON (proto/tensord/v1/op_schema.json) and exit");

namespace {

int Fail(const std::string& message) {
  spdlog::critical("{}", message);
  return 1;
}

// Write then rename, so a reader never sees a half-written file.
void WritePortFile(const std::string& path, int port) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << port << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace

namespace {

// TENSORD_DIE_WITH_PARENT=PID (the Python client's local server): SIGTERM when that parent dies,
// and exit now if it already has.
void DieWithParent() {
  const char* parent = std::getenv("TENSORD_DIE_WITH_PARENT");
  if (parent == nullptr) return;
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (std::to_string(getppid()) != parent) std::exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  DieWithParent();
  // Debian builds Abseil without NDEBUG, which leaves its mutex deadlock detector on: every
  // lock gRPC takes (several per call) would update a global lock graph. A server does not
  // pay for a debugging aid on every call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage("tensord --listen=127.0.0.1:50051 [--device=cpu] [--contexts=...]");
  // --config=FILE: the file's settings go before the command line, so explicit flags win.
  std::vector<std::string> args(argv, argv + argc);
  const std::string config_path = tensord::server::FindConfigArg(argc, argv);
  if (!config_path.empty()) {
    std::vector<std::string> known;
    for (const auto& [name, flag] : absl::GetAllFlags()) known.emplace_back(name);
    auto config_args = tensord::server::ReadConfigFile(config_path, known);
    if (!config_args.ok()) {
      std::fprintf(stderr, "tensord: %s\n", std::string(config_args.status().message()).c_str());
      return 2;
    }
    args = tensord::server::MergeArgs(argc, argv, *config_args);
  }
  std::vector<char*> arg_ptrs;
  for (std::string& a : args) arg_ptrs.push_back(a.data());
  absl::ParseCommandLine(static_cast<int>(arg_ptrs.size()), arg_ptrs.data());
  if (absl::GetFlag(FLAGS_print_ops_markdown)) {
    std::fputs(tensord::ops::OpsMarkdown().c_str(), stdout);
    return 0;
  }
  if (absl::GetFlag(FLAGS_print_op_schema)) {
    std::fputs(tensord::ops::OpSchemaJson().c_str(), stdout);
    return 0;
  }
  // Logs go to stderr so stdout stays free for tools that wrap the server.
  spdlog::set_default_logger(spdlog::stderr_color_mt("tensord"));
  spdlog::set_level(spdlog::level::from_str(absl::GetFlag(FLAGS_log_level)));
  if (!config_path.empty()) spdlog::info("read flags from config file {}", config_path);
  tensord::server::InstallProtobufLogHandler();

  std::string float_x = absl::GetFlag(FLAGS_floatX);
  if (float_x != "float32" && float_x != "float64") {
    return Fail("--floatX must be float32 or float64, got " + float_x);
  }
  tensord::context::DeviceMemoryOptions device_memory;
  device_memory.preallocate = absl::GetFlag(FLAGS_preallocate);
  if (!std::isfinite(device_memory.preallocate)) {
    return Fail(absl::StrCat("--preallocate must be a number, got ", device_memory.preallocate));
  }
  const int64_t sim_mb = absl::GetFlag(FLAGS_sim_device_memory_mb);
  if (sim_mb < 1 || sim_mb > (int64_t{1} << 30)) {
    return Fail(absl::StrCat("--sim_device_memory_mb must be in [1, 2^30], got ", sim_mb));
  }
  device_memory.simulated_device_bytes = sim_mb << 20;
  device_memory.simulated_memory_separate = absl::GetFlag(FLAGS_sim_device_memory_separate);
  auto contexts = tensord::context::ContextRegistry::Create(
      absl::GetFlag(FLAGS_contexts), absl::GetFlag(FLAGS_device),
      absl::GetFlag(FLAGS_contexts_optional), device_memory);
  if (!contexts.ok()) return Fail(std::string(contexts.status().message()));
  for (const auto& c : (*contexts)->all()) {
    if (c->is_device()) c->memory->SetLimit(absl::GetFlag(FLAGS_device_memory_limit));
    if (c->unavailable.empty()) {
      spdlog::info("mapped name {} to device {}: {}", c->name, c->device, c->description);
    } else {
      spdlog::warn("context {} ({}) is unavailable: {}", c->name, c->device, c->unavailable);
    }
  }
  for (const std::string& line : (*contexts)->memory_log()) spdlog::info("{}", line);

  // A peer that resets a connection must not kill the server: OpenSSL (the metrics listener's
  // TLS) writes with write(), which raises SIGPIPE there. Write errors are handled where seen.
  signal(SIGPIPE, SIG_IGN);
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // reloads the tokens file
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  tensord::runtime::SetMaxTensorBytes(absl::GetFlag(FLAGS_max_tensor_bytes));
  if (absl::GetFlag(FLAGS_host_cache_bytes) < 0) {
    spdlog::error("--host_cache_bytes must be >= 0, got {}", absl::GetFlag(FLAGS_host_cache_bytes));
    return 2;
  }
  tensord::runtime::HostAllocator::Global().SetCacheLimit(absl::GetFlag(FLAGS_host_cache_bytes));
  const std::string gemm_library = absl::GetFlag(FLAGS_gemm_library);
  if (gemm_library == "auto") {
    tensord::cpu::SetGemmLibrary(tensord::cpu::GemmLibrary::kAuto);
  } else if (gemm_library == "openblas") {
    tensord::cpu::SetGemmLibrary(tensord::cpu::GemmLibrary::kOpenBlas);
  } else if (gemm_library == "onednn") {
    tensord::cpu::SetGemmLibrary(tensord::cpu::GemmLibrary::kOneDnn);
  } else if (gemm_library == "eigen") {
    if (!tensord::cpu::EigenGemmRuns()) {
      spdlog::error(
          "--gemm_library=eigen: Eigen's kernels are built for AVX-512, which this CPU "
          "(or its kernel) does not support");
      return 2;
    }
    tensord::cpu::SetGemmLibrary(tensord::cpu::GemmLibrary::kEigen);
  } else {
    spdlog::error("--gemm_library must be auto, openblas, onednn or eigen, got '{}'", gemm_library);
    return 2;
  }
  spdlog::info("matrix products: {}", tensord::cpu::GemmLibrariesDescription());
  const std::string vector_math_isa = absl::GetFlag(FLAGS_vector_math_isa);
  if (vector_math_isa != "auto") {
    const std::optional<tensord::vmath::Isa> isa = tensord::vmath::IsaNamed(vector_math_isa);
    if (!isa.has_value()) {
      spdlog::error("--vector_math_isa must be auto, avx512f, avx2 or sse2, got '{}'",
                    vector_math_isa);
      return 2;
    }
    if (!tensord::vmath::UseLoops(*isa)) {
      spdlog::error("--vector_math_isa={}: this CPU (or its kernel) does not support it",
                    vector_math_isa);
      return 2;
    }
  }
  spdlog::info("vector math: SLEEF, {} loops", tensord::vmath::Loops().isa);
  tensord::server::ServerConfig config;
  config.float_x = float_x;
  config.session_idle_timeout = std::chrono::seconds(absl::GetFlag(FLAGS_session_idle_timeout_s));
  config.cache_max_entries = static_cast<size_t>(absl::GetFlag(FLAGS_cache_max_entries));
  config.cache_max_bytes =
      static_cast<size_t>(std::max<int64_t>(0, absl::GetFlag(FLAGS_cache_max_bytes)));
  config.enable_admin_rpcs = absl::GetFlag(FLAGS_enable_admin_rpcs);
  config.compute_threads = absl::GetFlag(FLAGS_compute_threads);
  config.max_graph_nodes = absl::GetFlag(FLAGS_max_graph_nodes);
  config.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  const std::string shared_memory = absl::GetFlag(FLAGS_shared_memory);
  if (shared_memory != "local" && shared_memory != "off") {
    spdlog::error("--shared_memory must be local or off, got '{}'", shared_memory);
    return 2;
  }
  config.shared_memory = shared_memory == "local";
  config.session_limits = {.max_sessions = absl::GetFlag(FLAGS_max_sessions),
                           .max_functions = absl::GetFlag(FLAGS_max_functions_per_session),
                           .max_shared_bytes = absl::GetFlag(FLAGS_max_shared_bytes_per_session),
                           .tenant_sessions = absl::GetFlag(FLAGS_tenant_max_sessions),
                           .tenant_memory_quota = absl::GetFlag(FLAGS_tenant_memory_quota)};
  if (config.compute_threads < 0) {
    spdlog::error("--compute_threads must be >= 0, got {}", config.compute_threads);
    return 2;
  }
  if (absl::GetFlag(FLAGS_intra_op_threads) < 0) {
    spdlog::error("--intra_op_threads must be >= 0, got {}", absl::GetFlag(FLAGS_intra_op_threads));
    return 2;
  }
  tensord::runtime::SetIntraOpThreads(absl::GetFlag(FLAGS_intra_op_threads));
  if (config.enable_admin_rpcs) spdlog::warn("admin RPCs enabled: any client can list sessions");
  const tensord::server::TlsFiles tls{absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                      absl::GetFlag(FLAGS_tls_client_ca)};
  auto credentials = tensord::server::ServerCredentials(tls);
  if (!credentials.ok()) return Fail(std::string(credentials.status().message()));
  auto auth = tensord::server::Authenticator::Create(absl::GetFlag(FLAGS_auth_tokens_file));
  if (!auth.ok()) return Fail(std::string(auth.status().message()));
  if (absl::Status s =
          tensord::server::CheckExposure(absl::GetFlag(FLAGS_listen), tls.enabled(),
                                         (*auth)->enabled(), absl::GetFlag(FLAGS_insecure));
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  if (absl::GetFlag(FLAGS_insecure) &&
      !tensord::server::IsLoopbackAddress(absl::GetFlag(FLAGS_listen))) {
    spdlog::warn("--insecure: {} is reachable without TLS or tokens", absl::GetFlag(FLAGS_listen));
  }
  // Declared before the service so it outlives it: scrapes read the service's state.
  tensord::server::Metrics metrics;
  if (const std::string address = absl::GetFlag(FLAGS_metrics_listen); !address.empty()) {
    // Metrics name no session and take no token, but other machines read them over TLS only.
    if (!tensord::server::IsLoopbackAddress(address) && !tls.enabled() &&
        !absl::GetFlag(FLAGS_insecure)) {
      return Fail("refusing to serve metrics on " + address +
                  " without TLS: give --tls_cert/--tls_key, keep --metrics_listen on 127.0.0.1, "
                  "or pass --insecure");
    }
    if (absl::Status s = metrics.Listen(address, tls); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    spdlog::info("metrics on {}://{}/metrics (port {})", tls.enabled() ? "https" : "http", address,
                 metrics.port());
  }
  // Its constructor throws only for a programming error (a method of the proto left unserved).
  tensord::server::ComputeService service(config, *std::move(contexts), &metrics, auth->get());
  if (const std::string dir = absl::GetFlag(FLAGS_state_dir); !dir.empty()) {
    auto state = tensord::server::StateDir::Open(dir);
    if (!state.ok()) return Fail(std::string(state.status().message()));
    service.EnableStateDir(*std::move(state),
                           std::chrono::seconds(absl::GetFlag(FLAGS_snapshot_interval_s)));
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), *credentials, &port);
  int max_bytes =
      static_cast<int>(std::min<int64_t>(absl::GetFlag(FLAGS_max_message_bytes), INT32_MAX));
  builder.SetMaxReceiveMessageSize(max_bytes);
  builder.SetMaxSendMessageSize(max_bytes);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) return Fail("could not listen on " + absl::GetFlag(FLAGS_listen));
  spdlog::info("tensord {} listening on port {} (floatX={}, max message {} bytes)", TENSORD_VERSION,
               port, float_x, max_bytes);
  // The metrics port first: readers wait for --port_file and then expect both.
  WritePortFile(absl::GetFlag(FLAGS_metrics_port_file), metrics.port());
  WritePortFile(absl::GetFlag(FLAGS_port_file), port);

  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    if (!(*auth)->enabled()) continue;
    absl::Status s = (*auth)->Reload();
    if (s.ok()) {
      spdlog::info("SIGHUP: reloaded --auth_tokens_file");
    } else {
      spdlog::error("SIGHUP: {}; the previous tokens stay in force", std::string(s.message()));
    }
  }
  spdlog::info("received signal {}, shutting down", sig);
  // In-flight calls get a few seconds to finish; then they are cancelled.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  server->Wait();
  // No call runs now: the last snapshot holds every update a client was told of.
  service.SaveState();
  spdlog::info("stopped");
  return 0;
}
