#include "server/session.h"

#include <algorithm>
#include <cstdint>

#include "server/random_id.h"
#include "server/rpc_codec.h"
#include "spdlog/spdlog.h"

namespace tensord::server {

SessionLease::SessionLease(std::shared_ptr<Session> session) : session_(std::move(session)) {
  session_->calls_in_flight_.fetch_add(1);
}

SessionLease::~SessionLease() {
  if (session_ == nullptr) return;  // moved from
  // Touch before releasing: a reaper that sees no call in flight also sees the fresh clock.
  session_->Touch();
  session_->calls_in_flight_.fetch_sub(1);
}

runtime::ByteBudgets Session::Budgets(const SessionLimits& limits,
                                      std::shared_ptr<runtime::ByteBudget> tenant_memory) {
  runtime::ByteBudgets budgets = {std::make_shared<runtime::ByteBudget>(
      limits.max_shared_bytes, "the session's shared variables and device arrays",
      "--max_shared_bytes_per_session")};
  if (tenant_memory != nullptr) budgets.push_back(std::move(tenant_memory));
  return budgets;
}

absl::Status Session::CheckRoomForFunction() const {
  std::lock_guard<std::mutex> lock(mu_);
  return CheckRoomLocked();
}

absl::Status Session::CheckRoomLocked() const {
  const size_t held = functions_.size() + restored_.size();
  if (max_functions_ <= 0 || static_cast<int64_t>(held) < max_functions_) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("the session holds ", held, " functions; the limit is ", max_functions_,
                   " (--max_functions_per_session): release some first"));
}

absl::StatusOr<std::string> Session::AddFunction(Function fn) {
  std::lock_guard<std::mutex> lock(mu_);
  TENSORD_RETURN_IF_ERROR(CheckRoomLocked());
  fn.id = absl::StrCat("fn-", next_function_++);
  std::string id = fn.id;
  functions_[id] = std::make_shared<const Function>(std::move(fn));
  MarkChanged();
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
  if (functions_.erase(id) + restored_.erase(id) == 0) {
    return NotFound("unknown function '", id, "' in this session");
  }
  MarkChanged();
  return absl::OkStatus();
}

void Session::AddRestoredFunction(std::string id, v1::FunctionSpec spec) {
  std::lock_guard<std::mutex> lock(mu_);
  restored_[std::move(id)] = std::move(spec);
}

std::optional<v1::FunctionSpec> Session::RestoredSpec(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = restored_.find(id);
  if (it == restored_.end()) return std::nullopt;
  return it->second;
}

absl::StatusOr<std::shared_ptr<const Function>> Session::InstallRestored(Function fn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = functions_.find(fn.id); it != functions_.end()) return it->second;
  if (restored_.erase(fn.id) == 0) {
    return NotFound("unknown function '", fn.id, "' in this session");
  }
  auto installed = std::make_shared<const Function>(std::move(fn));
  functions_[installed->id] = installed;
  return installed;
}

std::vector<std::pair<std::string, v1::FunctionSpec>> Session::FunctionSpecs() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<std::string, v1::FunctionSpec>> out;
  for (const auto& [id, fn] : functions_) out.emplace_back(id, fn->spec);
  for (const auto& [id, spec] : restored_) out.emplace_back(id, spec);
  return out;
}

int64_t Session::next_function_number() const {
  std::lock_guard<std::mutex> lock(mu_);
  return next_function_;
}

void Session::set_next_function_number(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  next_function_ = std::max(next_function_, n);
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
  return functions_.size() + restored_.size();
}

SessionManager::SessionManager(std::chrono::seconds idle_timeout, SessionLimits limits)
    : idle_timeout_(idle_timeout), limits_(limits), reaper_([this] { ReapLoop(); }) {}

SessionManager::~SessionManager() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  reaper_.join();
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Open(const std::string& client,
                                                              const Principal& opener) {
  std::lock_guard<std::mutex> lock(mu_);
  if (limits_.max_sessions > 0 && static_cast<int64_t>(sessions_.size()) >= limits_.max_sessions) {
    return absl::ResourceExhaustedError(
        absl::StrCat(sessions_.size(), " sessions are open; the limit is ", limits_.max_sessions,
                     " (--max_sessions): close unused sessions or wait for idle ones to expire"));
  }
  if (limits_.tenant_sessions > 0) {
    int64_t open = 0;
    for (const auto& [id, s] : sessions_) open += s->tenant() == opener.tenant;
    if (open >= limits_.tenant_sessions) {
      return absl::ResourceExhaustedError(
          absl::StrCat("tenant '", opener.tenant, "' has ", open, " sessions open; the limit is ",
                       limits_.tenant_sessions, " (--tenant_max_sessions)"));
    }
  }
  // The client's self-description is shown in logs and admin listings: keep it short.
  auto session = std::make_shared<Session>(RandomId(), client.substr(0, 256), limits_, opener,
                                           TenantMemoryLocked(opener.tenant), 0,
                                           TenantDeviceLocked(opener.tenant));
  sessions_[session->id()] = session;
  return session;
}

std::shared_ptr<Session> SessionManager::NewRestored(const std::string& id,
                                                     const std::string& client,
                                                     const Principal& owner,
                                                     int64_t created_unix_s) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::make_shared<Session>(id, client.substr(0, 256), limits_, owner,
                                   TenantMemoryLocked(owner.tenant), created_unix_s,
                                   TenantDeviceLocked(owner.tenant));
}

absl::Status SessionManager::Adopt(std::shared_ptr<Session> session) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sessions_.emplace(session->id(), session).second) {
    return absl::AlreadyExistsError("a session with this id is open already");
  }
  return absl::OkStatus();
}

void SessionManager::SetOnClosed(std::function<void(std::shared_ptr<Session>)> on_closed) {
  std::unique_lock<std::shared_mutex> lock(callback_mu_);
  on_closed_ = std::move(on_closed);
}

void SessionManager::Closed(std::vector<std::shared_ptr<Session>> gone) {
  std::shared_lock<std::shared_mutex> lock(callback_mu_);
  if (!on_closed_) return;
  for (auto& session : gone) on_closed_(std::move(session));
}

std::shared_ptr<runtime::ByteBudget> SessionManager::TenantMemoryLocked(const std::string& tenant) {
  auto& budget = tenant_memory_[tenant];
  if (budget == nullptr) {
    budget = std::make_shared<runtime::ByteBudget>(
        limits_.tenant_memory_quota,
        absl::StrCat("tenant '", tenant, "''s shared variables (all its sessions)"),
        "--tenant_memory_quota");
  }
  return budget;
}

std::shared_ptr<runtime::DeviceQuota> SessionManager::TenantDeviceLocked(
    const std::string& tenant) {
  if (limits_.tenant_memory_quota <= 0) return nullptr;
  auto& quota = tenant_device_[tenant];
  if (quota == nullptr) {
    std::shared_ptr<runtime::ByteBudget> resident = TenantMemoryLocked(tenant);
    quota = std::make_shared<runtime::DeviceQuota>(
        limits_.tenant_memory_quota, [resident] { return resident->bytes(); },
        absl::StrCat("tenant '", tenant, "'"));
  }
  return quota;
}

absl::Status SessionManager::Close(const std::string& id, const std::string& owner) {
  if (id.empty()) return InvalidArgument("session_id is empty (call OpenSession first)");
  std::shared_ptr<Session> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->owner() != owner) {
      return NotFound("unknown session '", Echo(id), "'");
    }
    gone = std::move(it->second);
    gone->closed_ = true;
    sessions_.erase(it);
  }
  Closed({std::move(gone)});
  return absl::OkStatus();
}

absl::StatusOr<SessionLease> SessionManager::Find(const std::string& id, const std::string& owner) {
  if (id.empty()) return InvalidArgument("session_id is empty (call OpenSession first)");
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->owner() != owner) {
    return NotFound("unknown session '", Echo(id), "' (closed or expired)");
  }
  it->second->Touch();
  // Taken under mu_, which the reaper holds while it decides: it cannot expire the session
  // between this lookup and the lease.
  return SessionLease(it->second);
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
    std::vector<std::shared_ptr<Session>> expired;
    for (auto it = sessions_.begin(); it != sessions_.end();) {
      if (it->second->calls_in_flight() == 0 &&
          it->second->idle_seconds() > idle_timeout_.count()) {
        spdlog::info("{} ({}) expired after {} s idle", it->second->log_name(),
                     it->second->client(), it->second->idle_seconds());
        it->second->closed_ = true;
        expired.push_back(std::move(it->second));
        it = sessions_.erase(it);
      } else {
        ++it;
      }
    }
    if (expired.empty()) continue;
    lock.unlock();
    Closed(std::move(expired));
    lock.lock();
  }
}

}  // namespace tensord::server
