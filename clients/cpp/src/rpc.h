// Internal: the state a session's objects share and the one helper every RPC goes through.
#ifndef TENSORD_CLIENT_SRC_RPC_H_
#define TENSORD_CLIENT_SRC_RPC_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "tensord/client.h"

namespace tensord::client::internal {

// Touches a session every `period` (a ListShared call) until destroyed, so the server does not
// expire a session whose owner is merely quiet: its shared variables would go with it.
class Keepalive {
 public:
  Keepalive(std::shared_ptr<::tensord::v1::Compute::Stub> stub, std::string session_id,
            std::string token, std::string routing_key, std::chrono::milliseconds period);
  ~Keepalive();
  Keepalive(const Keepalive&) = delete;
  Keepalive& operator=(const Keepalive&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

struct SessionCore {
  std::shared_ptr<::tensord::v1::Compute::Stub> stub;
  std::unique_ptr<Keepalive> keepalive;  // null when the options turn it off
  ClientOptions options;
  std::string session_id;
  std::string routing_key;  // sent as kSessionRoutingHeader with each of the session's calls
  int64_t idle_timeout_seconds = 0;
  std::atomic<bool> closed{false};

  absl::Status CheckOpen() const {
    if (closed.load()) {
      return absl::FailedPreconditionError("tensord session " + session_id + " is closed");
    }
    return absl::OkStatus();
  }
};

// A session's routing key: 128 random bits in hex.
std::string NewRoutingKey();

// Issues one unary RPC with the given deadline (zero means none), carrying `token` as a bearer
// token and `routing_key` as kSessionRoutingHeader when they are not empty.
template <typename Request, typename Response, typename Method>
absl::Status Call(::tensord::v1::Compute::Stub& stub, Method method, const Request& request,
                  Response* response, std::chrono::milliseconds timeout, const std::string& token,
                  const std::string& routing_key = "") {
  grpc::ClientContext context;
  if (timeout.count() > 0) context.set_deadline(std::chrono::system_clock::now() + timeout);
  Authorize(token, &context);
  if (!routing_key.empty()) context.AddMetadata(kSessionRoutingHeader, routing_key);
  return FromGrpcStatus((stub.*method)(&context, request, response));
}

// A call on behalf of a session: refused locally once the session is closed.
template <typename Request, typename Response, typename Method>
absl::Status SessionCall(const SessionCore& core, Method method, Request& request,
                         Response* response) {
  if (absl::Status s = core.CheckOpen(); !s.ok()) return s;
  request.set_session_id(core.session_id);
  return Call(*core.stub, method, request, response, core.options.call_timeout, core.options.token,
              core.routing_key);
}

}  // namespace tensord::client::internal

#endif  // TENSORD_CLIENT_SRC_RPC_H_
