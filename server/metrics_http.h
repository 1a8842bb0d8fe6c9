// A minimal HTTP/1.1 listener that answers GET /metrics for Prometheus.
//
// Why not prometheus-cpp's Exposer: Debian's civetweb runs its workers on 100 KiB stacks, and
// glibc carves each thread's static TLS out of that stack; tensord links OpenBLAS (about
// 60 KiB of TLS), so the first scrape overflowed the worker stack and killed the server. A
// scrape is one small request every few seconds, so one thread serving connections in turn
// is enough.
//
// With TLS files (the server's --tls_cert/--tls_key, and --tls_client_ca for mutual TLS) it
// speaks HTTPS through OpenSSL: scrapes are as private as the gRPC calls.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/transport_security.h"

typedef struct ssl_ctx_st SSL_CTX;

namespace tensord::server {

class MetricsHttpListener {
 public:
  // Binds `address` (host:port, [v6]:port or :port for all interfaces; port 0 picks one) and
  // serves `render()` at `path` until destroyed, over TLS when `tls` is enabled
  // (INVALID_ARGUMENT naming the flag for a certificate or key that does not load).
  static absl::StatusOr<std::unique_ptr<MetricsHttpListener>> Start(
      const std::string& address, std::string path, std::function<std::string()> render,
      const TlsFiles& tls = {});
  ~MetricsHttpListener();

  int port() const { return port_; }

 private:
  struct Connection;
  MetricsHttpListener(int fd, int port, std::string path, std::function<std::string()> render,
                      SSL_CTX* tls);
  struct Watch;
  void Serve();
  void HandleConnection(Connection& connection);
  // Shuts down the connection being served once it has taken kConnectionDeadline: per-read
  // timeouts alone let a client that sends a byte now and then hold the only serving thread.
  void Watchdog();

  const int listen_fd_;
  SSL_CTX* const tls_;  // null: plain HTTP
  const int port_;
  const std::string path_;
  const std::function<std::string()> render_;
  std::atomic<bool> stopping_{false};
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  int watched_fd_ = -1;  // under watch_mu_; -1: none
  std::chrono::steady_clock::time_point watch_deadline_;
  std::thread thread_;
  std::thread watchdog_;
};

}  // namespace tensord::server
