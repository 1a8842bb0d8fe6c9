#include "server/metrics.h"

#include <unistd.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "engine/runtime/host_allocator.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"
#include "server/metrics_http.h"

namespace tensord::server {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Bucket bounds in seconds. RPCs and runs span sub-millisecond elementwise calls to long
// training steps; compiles start around a millisecond and can take tens of seconds.
const prometheus::Histogram::BucketBoundaries kRpcBuckets = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,    0.5,    1,     2.5,    5,     10,   30,    60};
const prometheus::Histogram::BucketBoundaries kCompileBuckets = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

MetricFamily Family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric Value(MetricType type, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric m;
  m.label = std::move(labels);
  if (type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  return m;
}

MetricFamily Scalar(std::string name, std::string help, MetricType type, double value) {
  MetricFamily f = Family(std::move(name), std::move(help), type);
  f.metric.push_back(Value(type, value));
  return f;
}

}  // namespace

int64_t ResidentMemoryBytes() {
  // statm: size resident shared text lib data dt, all in pages.
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * sysconf(_SC_PAGESIZE);
}

// State metrics, computed from the snapshot source on every scrape.
class Metrics::StateCollector : public prometheus::Collectable {
 public:
  void SetSource(std::function<MetricsSnapshot()> source) {
    // Waits for a scrape in progress, so the old source is not called after this returns.
    std::lock_guard<std::mutex> lock(mu_);
    source_ = std::move(source);
  }

  std::vector<MetricFamily> Collect() const override {
    std::vector<MetricFamily> out;
    out.push_back(Scalar("tensord_process_resident_memory_bytes",
                         "Resident set size of the tensord process.", MetricType::Gauge,
                         static_cast<double>(ResidentMemoryBytes())));
    const runtime::HostAllocator::Stats host = runtime::HostAllocator::Global().stats();
    MetricFamily allocations = Family(
        "tensord_host_buffer_allocations_total",
        "Tensor buffers allocated in host memory, by source: reused from the cache of freed "
        "buffers, or new from the system (a steady loop of runs takes all of them from the cache).",
        MetricType::Counter);
    allocations.metric.push_back(
        Value(MetricType::Counter, static_cast<double>(host.allocations - host.system_allocations),
              {{"source", "cache"}}));
    allocations.metric.push_back(Value(
        MetricType::Counter, static_cast<double>(host.system_allocations), {{"source", "system"}}));
    out.push_back(std::move(allocations));
    out.push_back(Scalar("tensord_host_buffer_cache_bytes",
                         "Bytes of freed host tensor buffers kept for reuse (--host_cache_bytes).",
                         MetricType::Gauge, static_cast<double>(host.cached_bytes)));
    std::lock_guard<std::mutex> lock(mu_);
    if (!source_) return out;
    MetricsSnapshot s = source_();
    out.push_back(Scalar("tensord_compile_cache_hits_total",
                         "Compiles answered by an executable already in the cache.",
                         MetricType::Counter, s.cache_hits));
    out.push_back(Scalar("tensord_compile_cache_misses_total",
                         "Compiles that had to build a new executable.", MetricType::Counter,
                         s.cache_misses));
    out.push_back(Scalar("tensord_compile_cache_evictions_total",
                         "Executables evicted from the cache to stay within --cache_max_entries "
                         "and --cache_max_bytes.",
                         MetricType::Counter, s.cache_evictions));
    out.push_back(Scalar("tensord_compile_cache_entries", "Executables in the compile cache.",
                         MetricType::Gauge, s.cache_entries));
    out.push_back(Scalar("tensord_compile_cache_bytes",
                         "Approximate bytes of the executables in the compile cache.",
                         MetricType::Gauge, static_cast<double>(s.cache_bytes)));
    out.push_back(
        Scalar("tensord_sessions", "Open client sessions.", MetricType::Gauge, s.sessions));
    MetricFamily vars =
        Family("tensord_shared_variables", "Shared variables held by all sessions, by context.",
               MetricType::Gauge);
    MetricFamily bytes = Family("tensord_shared_variable_bytes",
                                "Bytes of shared variable values, by context.", MetricType::Gauge);
    for (const auto& [context, usage] : s.shared_by_context) {
      vars.metric.push_back(Value(MetricType::Gauge, usage.variables, {{"context", context}}));
      bytes.metric.push_back(Value(MetricType::Gauge, usage.bytes, {{"context", context}}));
    }
    out.push_back(std::move(vars));
    out.push_back(std::move(bytes));
    MetricFamily in_use =
        Family("tensord_memory_in_use_bytes",
               "Bytes of tensor buffers allocated for a context and alive now (shared variables, "
               "function buffers, run inputs and outputs).",
               MetricType::Gauge);
    MetricFamily peak = Family("tensord_memory_peak_bytes",
                               "The most bytes of tensor buffers a context had at one time since "
                               "the server started.",
                               MetricType::Gauge);
    MetricFamily cached =
        Family("tensord_memory_cached_bytes",
               "Bytes of freed blocks a device context's allocator keeps for reuse (outside the "
               "preallocated region).",
               MetricType::Gauge);
    MetricFamily reserved = Family("tensord_memory_reserved_bytes",
                                   "Bytes a device context's allocator preallocated at start "
                                   "(--preallocate).",
                                   MetricType::Gauge);
    for (const auto& [context, usage] : s.memory_by_context) {
      in_use.metric.push_back(Value(MetricType::Gauge, static_cast<double>(usage.in_use_bytes),
                                    {{"context", context}}));
      peak.metric.push_back(
          Value(MetricType::Gauge, static_cast<double>(usage.peak_bytes), {{"context", context}}));
      cached.metric.push_back(Value(MetricType::Gauge, static_cast<double>(usage.cached_bytes),
                                    {{"context", context}}));
      reserved.metric.push_back(Value(MetricType::Gauge, static_cast<double>(usage.reserved_bytes),
                                      {{"context", context}}));
    }
    out.push_back(std::move(in_use));
    out.push_back(std::move(peak));
    out.push_back(std::move(cached));
    out.push_back(std::move(reserved));
    MetricFamily transferred =
        Family("tensord_transfer_bytes_total",
               "Bytes transfer nodes moved, by device context and direction (host_to_device, "
               "device_to_host, device_to_device; counted on the device side).",
               MetricType::Counter);
    for (const auto& [context, usage] : s.memory_by_context) {
      for (int d = 0; d < runtime::kTransferDirections; ++d) {
        transferred.metric.push_back(
            Value(MetricType::Counter, static_cast<double>(usage.transferred_bytes[d]),
                  {{"context", context},
                   {"direction",
                    runtime::TransferDirectionName(static_cast<runtime::TransferDirection>(d))}}));
      }
    }
    out.push_back(std::move(transferred));
    return out;
  }

 private:
  mutable std::mutex mu_;
  std::function<MetricsSnapshot()> source_;
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      state_(std::make_shared<StateCollector>()) {
  rpc_requests_ = &prometheus::BuildCounter()
                       .Name("tensord_rpc_requests_total")
                       .Help("Completed gRPC calls by method and status code.")
                       .Register(*registry_);
  rpc_duration_ = &prometheus::BuildHistogram()
                       .Name("tensord_rpc_duration_seconds")
                       .Help("Time spent handling a gRPC call, by method.")
                       .Register(*registry_);
  compile_duration_ = &prometheus::BuildHistogram()
                           .Name("tensord_compile_duration_seconds")
                           .Help("Time to build an executable on a compile cache miss.")
                           .Register(*registry_)
                           .Add({}, kCompileBuckets);
  run_duration_ = &prometheus::BuildHistogram()
                       .Name("tensord_run_duration_seconds")
                       .Help("Time to run a compiled function, including input decoding.")
                       .Register(*registry_)
                       .Add({}, kRpcBuckets);
  runs_in_flight_ = &prometheus::BuildGauge()
                         .Name("tensord_runs_in_flight")
                         .Help("Function runs executing now.")
                         .Register(*registry_)
                         .Add({});
  auto& shared_memory = prometheus::BuildCounter()
                            .Name("tensord_shared_memory_bytes_total")
                            .Help(
                                "Bytes Run read from clients' shared memory (inputs) or wrote "
                                "into it (outputs), by direction.")
                            .Register(*registry_);
  shared_memory_read_ = &shared_memory.Add({{"direction", "read"}});
  shared_memory_written_ = &shared_memory.Add({{"direction", "written"}});
}

// Stops the listener before the families it renders go away.
Metrics::~Metrics() { listener_.reset(); }

absl::Status Metrics::Listen(const std::string& address, const TlsFiles& tls) {
  auto listener = MetricsHttpListener::Start(
      address, "/metrics", [this] { return Render(); }, tls);
  if (!listener.ok()) {
    return absl::Status(listener.status().code(),
                        absl::StrCat("could not serve metrics: ", listener.status().message(),
                                     " (pick another --metrics_listen, or leave it empty to "
                                     "disable metrics)"));
  }
  listener_ = *std::move(listener);
  return absl::OkStatus();
}

int Metrics::port() const { return listener_ ? listener_->port() : 0; }

void Metrics::SetSnapshotSource(std::function<MetricsSnapshot()> source) {
  state_->SetSource(std::move(source));
}

void Metrics::RecordRpc(const char* method, absl::StatusCode code, double seconds) {
  RpcSeries series;
  {
    std::lock_guard<std::mutex> lock(rpc_series_mu_);
    auto [it, added] = rpc_series_.try_emplace({method, code});
    if (added) {
      // Family::Add returns the existing child for labels it has seen, so each (method,
      // code) pair gets one time series however many keys lead to it.
      it->second.requests =
          &rpc_requests_->Add({{"method", method}, {"code", absl::StatusCodeToString(code)}});
      it->second.duration = &rpc_duration_->Add({{"method", method}}, kRpcBuckets);
    }
    series = it->second;
  }
  series.requests->Increment();
  series.duration->Observe(seconds);
}

std::string Metrics::Render() const {
  std::vector<MetricFamily> families = registry_->Collect();
  for (auto& f : state_->Collect()) families.push_back(std::move(f));
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tensord::server
