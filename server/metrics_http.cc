#include "server/metrics_http.h"

#include <netdb.h>
#include <netinet/in.h>
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
// A client that stalls mid-request must not hold the only serving thread for long.
constexpr int kIoTimeoutSeconds = 5;

void SendAll(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    ssize_t n = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string Response(const std::string& status, const std::string& content_type,
                     const std::string& body, bool head) {
  return absl::StrCat("HTTP/1.1 ", status, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n",
                      head ? "" : body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsHttpListener>> MetricsHttpListener::Start(
    const std::string& address, std::string path, std::function<std::string()> render) {
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
  return std::unique_ptr<MetricsHttpListener>(
      new MetricsHttpListener(fd, bound_port, std::move(path), std::move(render)));
}

MetricsHttpListener::MetricsHttpListener(int fd, int port, std::string path,
                                         std::function<std::string()> render)
    : listen_fd_(fd), port_(port), path_(std::move(path)), render_(std::move(render)) {
  thread_ = std::thread([this] { Serve(); });
}

MetricsHttpListener::~MetricsHttpListener() {
  stopping_ = true;
  thread_.join();
  close(listen_fd_);
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
    try {
      HandleConnection(fd);
    } catch (const std::exception& e) {
      // A failed scrape must not take the server down with it.
      spdlog::warn("metrics request failed: {}", e.what());
      SendAll(fd, Response("500 Internal Server Error", "text/plain", "internal error\n", false));
    }
    close(fd);
  }
}

void MetricsHttpListener::HandleConnection(int fd) {
  std::string request;
  char buf[1024];
  while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  // Request line: METHOD SP TARGET SP VERSION.
  std::string line = request.substr(0, request.find("\r\n"));
  size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  if (sp1 == std::string::npos || sp2 == std::string::npos) {
    SendAll(fd, Response("400 Bad Request", "text/plain", "bad request\n", false));
    return;
  }
  std::string method = line.substr(0, sp1);
  std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  bool head = method == "HEAD";
  if (target != path_) {
    SendAll(fd, Response("404 Not Found", "text/plain", "metrics are at " + path_ + "\n", head));
  } else if (method != "GET" && !head) {
    SendAll(fd, Response("405 Method Not Allowed", "text/plain", "use GET\n", false));
  } else {
    SendAll(fd, Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", render_(), head));
  }
}

}  // namespace tensord::server
