#include "server/session.h"

#include <random>

#include "absl/strings/str_format.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace {

// Unguessable ids, so one client cannot stumble on another's session.
std::string RandomId() {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  return absl::StrFormat("%016x%016x", rng(), rng());
}

}  // namespace

std::string Session::AddFunction(Function fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn.id = absl::StrCat("fn-", next_function_++);
  std::string id = fn.id;
  functions_[id] = std::make_shared<const Function>(std::move(fn));
  return id;
}

absl::StatusOr<std::shared_ptr<const Function>> Session::FindFunction(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = functions_.find(id);
  if (it == functions_.end()) return NotFound("unknown function '", id, "' in this session");
  return it->second;
}

absl::Status Session::ReleaseFunction(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (functions_.erase(id) == 0) return NotFound("unknown function '", id, "' in this session");
  return absl::OkStatus();
}

std::vector<std::shared_ptr<const Function>> Session::ListFunctions() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<const Function>> out;
  out.reserve(functions_.size());
  for (const auto& [id, fn] : functions_) out.push_back(fn);
  return out;
}

size_t Session::function_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return functions_.size();
}

SessionManager::SessionManager(std::chrono::seconds idle_timeout)
    : idle_timeout_(idle_timeout), reaper_([this] { ReapLoop(); }) {}

SessionManager::~SessionManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  reaper_.join();
}

std::shared_ptr<Session> SessionManager::Open(const std::string& client) {
  auto session = std::make_shared<Session>(RandomId(), client);
  std::lock_guard<std::mutex> lock(mu_);
  sessions_[session->id()] = session;
  return session;
}

absl::Status SessionManager::Close(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.erase(id) == 0) return NotFound("unknown session '", id, "'");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Find(const std::string& id) {
  if (id.empty()) return InvalidArgument("session_id is empty (call OpenSession first)");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return NotFound("unknown session '", id, "' (closed or expired)");
  it->second->Touch();
  return it->second;
}

size_t SessionManager::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

std::vector<std::shared_ptr<Session>> SessionManager::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (const auto& [id, session] : sessions_) out.push_back(session);
  return out;
}

void SessionManager::ReapLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  const auto period = std::min<std::chrono::seconds>(idle_timeout_, std::chrono::seconds(10));
  while (!stop_cv_.wait_for(lock, std::max(period, std::chrono::seconds(1)),
                            [this] { return stopping_; })) {
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second->idle_seconds() > idle_timeout_.count()) {
        spdlog::info("session {} ({}) expired after {} s idle", it->first, it->second->client(),
                     it->second->idle_seconds());
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace tensord::server
