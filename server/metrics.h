// Prometheus metrics for tensord, served as text on their own HTTP listener (--metrics_listen)
// so a scraper never competes with gRPC traffic. Event metrics (RPCs, compiles, runs) are
// recorded as they happen; state (cache, sessions, shared variables, memory) is read from a
// snapshot source at scrape time, so idle servers cost nothing and values are never stale.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "engine/runtime/memory_stats.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/transport_security.h"

namespace tensord::server {

class MetricsHttpListener;

// Server state read at scrape time.
struct MetricsSnapshot {
  int64_t cache_hits = 0;
  int64_t cache_misses = 0;
  int64_t cache_evictions = 0;
  int64_t cache_entries = 0;
  int64_t cache_bytes = 0;
  int64_t sessions = 0;
  struct SharedUsage {
    int64_t variables = 0;
    int64_t bytes = 0;
  };
  std::map<std::string, SharedUsage> shared_by_context;
  // Tensor buffers charged to each context (engine/runtime/memory_stats.h).
  struct MemoryUsage {
    int64_t in_use_bytes = 0;
    int64_t peak_bytes = 0;
    // The device allocator's (context::DeviceBlocks): blocks cached for reuse, the region
    // preallocated. 0 where the context has none.
    int64_t cached_bytes = 0;
    int64_t reserved_bytes = 0;
    // Bytes transfer nodes moved, by runtime::TransferDirection.
    std::array<int64_t, runtime::kTransferDirections> transferred_bytes = {};
  };
  std::map<std::string, MemoryUsage> memory_by_context;
};

class Metrics {
 public:
  Metrics();
  ~Metrics();

  // Serves /metrics on `address` (host:port; port 0 picks one), over TLS when `tls` is enabled.
  // Call at most once.
  absl::Status Listen(const std::string& address, const TlsFiles& tls = {});
  // The bound port, or 0 when not listening.
  int port() const;

  // The source of state metrics; nullptr detaches it (the owner of the state calls that before
  // it dies, since a scrape may run on the listener's thread at any time).
  void SetSnapshotSource(std::function<MetricsSnapshot()> source);

  // `method` must outlive the server (the service's method names are literals): its address
  // keys the cache of the call's series.
  void RecordRpc(const char* method, absl::StatusCode code, double seconds);
  void RecordCompileMiss(double seconds) { compile_duration_->Observe(seconds); }
  void RecordRun(double seconds) { run_duration_->Observe(seconds); }
  prometheus::Gauge& runs_in_flight() { return *runs_in_flight_; }
  // Bytes Run read from clients' shared memory (inputs) or wrote into it (outputs).
  void RecordSharedMemoryRead(int64_t bytes) { shared_memory_read_->Increment(bytes); }
  void RecordSharedMemoryWritten(int64_t bytes) { shared_memory_written_->Increment(bytes); }

  // The exposition text a scrape would return (for tests and debugging).
  std::string Render() const;

 private:
  class StateCollector;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<StateCollector> state_;
  struct RpcSeries {
    prometheus::Counter* requests;
    prometheus::Histogram* duration;
  };

  prometheus::Family<prometheus::Counter>* rpc_requests_;
  prometheus::Family<prometheus::Histogram>* rpc_duration_;
  // Family::Add builds a label map and hashes it under the family's lock: every RPC would pay
  // for that, so each (method, code) pair's series is looked up once and kept here.
  std::mutex rpc_series_mu_;
  std::map<std::pair<const char*, absl::StatusCode>, RpcSeries> rpc_series_;
  prometheus::Histogram* compile_duration_;
  prometheus::Histogram* run_duration_;
  prometheus::Gauge* runs_in_flight_;
  prometheus::Counter* shared_memory_read_;
  prometheus::Counter* shared_memory_written_;
  std::unique_ptr<MetricsHttpListener> listener_;
};

// Times a scope in seconds and hands the result to `record` when it ends.
class ScopedTimer {
 public:
  explicit ScopedTimer(std::function<void(double)> record)
      : record_(std::move(record)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedTimer() {
    record_(std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedTimer(const ScopedTimer&) = delete;
  ScopedTimer& operator=(const ScopedTimer&) = delete;

 private:
  std::function<void(double)> record_;
  std::chrono::steady_clock::time_point start_;
};

// Reads the process's resident set size from /proc/self/statm; 0 where that is unavailable.
int64_t ResidentMemoryBytes();

}  // namespace tensord::server
