#include "server/metrics_http.h"

#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace {

constexpr size_t kMaxRequestBytes = 8192;
// A client that stalls mid-request must not hold the only serving thread for long: each read
// and write waits at most this long, and a whole connection at most kConnectionDeadline.
constexpr int kIoTimeoutSeconds = 5;
constexpr auto kConnectionDeadline = std::chrono::seconds(10);

std::string OpenSslError() {
  char text[256] = "unknown error";
  if (unsigned long e = ERR_get_error(); e != 0) ERR_error_string_n(e, text, sizeof(text));
  ERR_clear_error();
  return text;
}

// The server side of TLS for the metrics listener, from the same files as the gRPC listener's.
absl::StatusOr<SSL_CTX*> MakeTlsContext(const TlsFiles& tls) {
  if (tls.cert.empty() || tls.key.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together");
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + OpenSslError());
  auto fail = [&](const std::string& what) {
    SSL_CTX_free(ctx);
    return absl::InvalidArgumentError(
        absl::StrCat("metrics listener: ", what, ": ", OpenSslError()));
  };
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(ctx, tls.cert.c_str()) != 1) {
    return fail("cannot load --tls_cert " + tls.cert);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, tls.key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return fail("cannot load --tls_key " + tls.key + " (or it does not match --tls_cert)");
  }
  if (!tls.client_ca.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, tls.client_ca.c_str(), nullptr) != 1) {
      return fail("cannot load --tls_client_ca " + tls.client_ca);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

}  // namespace

// One accepted connection, plain or TLS: bytes in and out, and the cleanup.
struct MetricsHttpListener::Connection {
  int fd;
  SSL* ssl = nullptr;

  ~Connection() {
    if (ssl != nullptr) {
      SSL_shutdown(ssl);
      SSL_free(ssl);
    }
    close(fd);
  }
  // False when the TLS handshake fails (a plaintext client, no or a bad client certificate).
  bool Accept(SSL_CTX* tls) {
    if (tls == nullptr) return true;
    ssl = SSL_new(tls);
    if (ssl == nullptr || SSL_set_fd(ssl, fd) != 1) return false;
    if (SSL_accept(ssl) == 1) return true;
    spdlog::debug("metrics: TLS handshake failed: {}", OpenSslError());
    return false;
  }
  ssize_t Receive(char* buf, size_t size) {
    if (ssl == nullptr) return recv(fd, buf, size, 0);
    return SSL_read(ssl, buf, static_cast<int>(size));
  }
  void SendAll(const std::string& data) {
    for (size_t sent = 0; sent < data.size();) {
      const size_t left = data.size() - sent;
      ssize_t n = ssl != nullptr ? SSL_write(ssl, data.data() + sent, static_cast<int>(left))
                                 : send(fd, data.data() + sent, left, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<size_t>(n);
    }
  }
};

// Puts one connection under the watchdog while it lives (declared after the Connection, so it
// lets go of the descriptor before the Connection closes it).
struct MetricsHttpListener::Watch {
  MetricsHttpListener& listener;
  Watch(MetricsHttpListener& l, int fd) : listener(l) {
    std::lock_guard<std::mutex> lock(listener.watch_mu_);
    listener.watched_fd_ = fd;
    listener.watch_deadline_ = std::chrono::steady_clock::now() + kConnectionDeadline;
    listener.watch_cv_.notify_all();
  }
  ~Watch() {
    std::lock_guard<std::mutex> lock(listener.watch_mu_);
    listener.watched_fd_ = -1;
  }
};

namespace {

std::string Response(const std::string& status, const std::string& content_type,
                     const std::string& body, bool head) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                      head ? "" : body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpListener>> MetricsHttpListener::Start(
    const std::string& address, std::string path, std::function<std::string()> render,
    const TlsFiles& tls) {
  // Owned here until the listener takes it, so every failure below frees it.
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls_context(nullptr, SSL_CTX_free);
  if (tls.enabled()) {
    TENSORD_ASSIGN_OR_RETURN(SSL_CTX * ctx, MakeTlsContext(tls));
    tls_context.reset(ctx);
  }
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "' is not host:port"));
  }
  std::string host = address.substr(0, colon), port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", address, "': ", gai_strerror(rc)));
  }
  int fd = -1;
  std::string error = "no address";
  for (addrinfo* ai = found; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    // Lets a restarted server rebind at once; it does not let two live servers share a port.
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 16) != 0) {
      error = std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("bind ", address, ": ", error));
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  int bound_port =
      ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return std::unique_ptr<MetricsHttpListener>(new MetricsHttpListener(
      fd, bound_port, std::move(path), std::move(render), tls_context.release()));
}

MetricsHttpListener::MetricsHttpListener(int fd, int port, std::string path,
                                         std::function<std::string()> render, SSL_CTX* tls)
    : listen_fd_(fd), tls_(tls), port_(port), path_(std::move(path)), render_(std::move(render)) {
  thread_ = std::thread([this] { Serve(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

MetricsHttpListener::~MetricsHttpListener() {
  {
    std::lock_guard<std::mutex> lock(watch_mu_);
    stopping_ = true;
    // A connection being served now is cut: stopping waits for no client.
    if (watched_fd_ >= 0) ::shutdown(watched_fd_, SHUT_RDWR);
  }
  watch_cv_.notify_all();
  thread_.join();
  watchdog_.join();
  close(listen_fd_);
  SSL_CTX_free(tls_);
}

void MetricsHttpListener::Serve() {
  pollfd p{listen_fd_, POLLIN, 0};
  while (!stopping_) {
    // Wake up now and then to notice shutdown; accept() alone would block forever.
    if (poll(&p, 1, 200) <= 0) continue;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    timeval timeout{kIoTimeoutSeconds, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    Connection connection{fd};
    Watch watch(*this, fd);
    if (!connection.Accept(tls_)) continue;
    try {
      HandleConnection(connection);
    } catch (const std::exception& e) {
      // A failed scrape must not take the server down with it.
      spdlog::warn("metrics request failed: {}", e.what());
      connection.SendAll(
          Response("500 Internal Server Error", "text/plain", "internal error\n", false));
    }
  }
}

void MetricsHttpListener::Watchdog() {
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!stopping_) {
    if (watched_fd_ < 0) {
      watch_cv_.wait(lock);
    } else if (watch_cv_.wait_until(lock, watch_deadline_) == std::cv_status::timeout &&
               watched_fd_ >= 0 && std::chrono::steady_clock::now() >= watch_deadline_) {
      // Its reads and writes fail now; the serving thread closes it and moves on.
      ::shutdown(watched_fd_, SHUT_RDWR);
      watched_fd_ = -1;
    }
  }
}

void MetricsHttpListener::HandleConnection(Connection& connection) {
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    ssize_t n = connection.Receive(buf, sizeof(buf));
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  // Request line: METHOD SP TARGET SP VERSION.
  std::string line = request.substr(0, request.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    connection.SendAll(Response("400 Bad Request", "text/plain", "bad request\n", false));
    return;
  }
  std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  bool head = method == "HEAD";
  if (target != path_) {
    connection.SendAll(
        Response("404 Not Found", "text/plain", "metrics are at " + path_ + "\n", head));
  } else if (method != "GET" && !head) {
    connection.SendAll(Response("405 Method Not Allowed", "text/plain", "use GET\n", false));
  } else {
    connection.SendAll(
        Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_(), head));
  }
}

}  // namespace tensord::server
