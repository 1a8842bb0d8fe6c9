// Sessions own shared variables and function handles; they expire when idle.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/compile/executable.h"
#include "engine/context/shared_store.h"
#include "engine/runtime/memory_stats.h"
#include "server/auth.h"
#include "server/device_arrays.h"
#include "server/profile.h"
#include "server/shared_memory.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// A compiled function bound to one session's shared variables.
struct Function {
  std::string id;
  std::string name;
  std::shared_ptr<const compile::Executable> executable;
  // In the executable's shared_params() order.
  std::vector<std::shared_ptr<context::SharedVariable>> shared;
  // What the client sent, to describe the function with the session's own names.
  v1::FunctionSpec spec;
  // Accumulated timings when compiled with profile=True; null otherwise.
  std::shared_ptr<FunctionProfile> profile;
  // The context it runs on: buffers its runs allocate are charged to it.
  const context::Context* context = nullptr;
  // Successful runs (admin ListFunctions); behind a pointer so Function stays movable.
  std::shared_ptr<std::atomic<int64_t>> calls = std::make_shared<std::atomic<int64_t>>(0);
};

// What one session may hold (0: no limit); a request past one gets RESOURCE_EXHAUSTED naming it.
struct SessionLimits {
  int64_t max_sessions = 0;         // --max_sessions (open at once, server-wide)
  int64_t max_functions = 0;        // --max_functions_per_session
  int64_t max_shared_bytes = 0;     // --max_shared_bytes_per_session
  int64_t tenant_sessions = 0;      // --tenant_max_sessions (open at once, per tenant)
  int64_t tenant_memory_quota = 0;  // --tenant_memory_quota (shared bytes, all its sessions)
};

class Session {
 public:
  // `tenant_memory` is the budget shared by the sessions of the tenant that opens this one
  // (null: none). `created_unix_s`: when it was opened (0: now; a restored session's is older).
  Session(std::string id, std::string client, const SessionLimits& limits = {},
          const Principal& opener = {},
          std::shared_ptr<runtime::ByteBudget> tenant_memory = nullptr, int64_t created_unix_s = 0,
          std::shared_ptr<runtime::DeviceQuota> tenant_device = nullptr)
      : id_(std::move(id)),
        client_(std::move(client)),
        owner_(opener.owner),
        tenant_(opener.tenant),
        tenant_device_(std::move(tenant_device)),
        budgets_(Budgets(limits, std::move(tenant_memory))),
        shared_(budgets_),
        arrays_(budgets_),
        max_functions_(limits.max_functions),
        created_unix_(created_unix_s > 0 ? created_unix_s : UnixNow()) {}

  const std::string& id() const { return id_; }
  // How logs name the session: the id is its credential and never goes to a log at info level.
  std::string log_name() const { return absl::StrCat("session #", serial_); }
  const std::string& client() const { return client_; }
  const std::string& tenant() const { return tenant_; }
  // The principal that opened it (server/auth.h); only that principal finds it.
  const std::string& owner() const { return owner_; }
  context::SharedStore& shared() { return shared_; }
  // Run outputs left on a device; charged to the same budgets as the shared variables.
  DeviceArrayStore& arrays() { return arrays_; }
  // Shared-memory regions a client on this host registered; closed with the session.
  SharedMemoryRegions& shared_memory() { return shared_memory_; }
  // The same quota over the device buffers the tenant's runs hold (null when none): shared by
  // its sessions, so concurrent runs count together.
  const std::shared_ptr<runtime::DeviceQuota>& tenant_device() const { return tenant_device_; }

  // Returns the new function's id; RESOURCE_EXHAUSTED at --max_functions_per_session.
  absl::StatusOr<std::string> AddFunction(Function fn);
  // RESOURCE_EXHAUSTED when AddFunction would be refused now (checked before compiling).
  absl::Status CheckRoomForFunction() const;
  absl::StatusOr<std::shared_ptr<const Function>> FindFunction(const std::string& id) const;
  absl::Status ReleaseFunction(const std::string& id);
  size_t function_count() const;
  // A snapshot of the functions, by id (admin ListFunctions).
  std::vector<std::shared_ptr<const Function>> ListFunctions() const;

  // Functions of a restored session (server/persistence.h) are kept as their specs until first
  // used; FunctionService compiles one then and installs it under its old id.
  void AddRestoredFunction(std::string id, v1::FunctionSpec spec);
  std::optional<v1::FunctionSpec> RestoredSpec(const std::string& id) const;
  // Installs `fn` (its id set) in place of its spec and returns it; when another call installed
  // it first, that one. NOT_FOUND when the function was released meanwhile.
  absl::StatusOr<std::shared_ptr<const Function>> InstallRestored(Function fn);
  // Every function's id and spec, compiled or not, for a snapshot.
  std::vector<std::pair<std::string, v1::FunctionSpec>> FunctionSpecs() const;
  // N of the id the next AddFunction hands out ("fn-N"); restoring sets it again.
  int64_t next_function_number() const;
  void set_next_function_number(int64_t n);

  // Counts changes a snapshot would record (functions added or released here, shared variables
  // created, set, updated or deleted by the store), so unchanged sessions are not written again.
  void MarkChanged() { changes_.fetch_add(1); }
  uint64_t changes() const { return changes_.load() + shared_.changes(); }
  // Held while the session's snapshot is written or removed (server/persistence.h), with the
  // change count the last snapshot recorded.
  std::mutex& snapshot_mutex() { return snapshot_mu_; }
  uint64_t saved_changes = 0;  // under snapshot_mutex()
  // Closed or expired: set by the SessionManager before it lets go, so no snapshot is written
  // for the session afterwards.
  bool closed() const { return closed_.load(); }
  // A restored session is as idle as it was when saved.
  void set_idle_seconds(int64_t seconds) {
    last_used_ = Now() - seconds;
    last_used_unix_ = UnixNow() - seconds;
  }

  void Touch() {
    last_used_ = Now();
    last_used_unix_ = UnixNow();
  }
  int64_t idle_seconds() const { return Now() - last_used_; }
  // Calls holding a SessionLease right now: a session with one in flight is never idle.
  int calls_in_flight() const { return calls_in_flight_.load(); }
  // Wall-clock times in seconds since the epoch, for operators (admin ListSessions).
  int64_t created_unix_s() const { return created_unix_; }
  int64_t last_used_unix_s() const { return last_used_unix_; }

 private:
  static int64_t Now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  static int64_t UnixNow() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  friend class SessionLease;
  friend class SessionManager;
  absl::Status CheckRoomLocked() const;  // mu_ held
  static runtime::ByteBudgets Budgets(const SessionLimits& limits,
                                      std::shared_ptr<runtime::ByteBudget> tenant_memory);

  inline static std::atomic<int64_t> next_serial_{1};
  const std::string id_;
  const int64_t serial_ = next_serial_.fetch_add(1);
  const std::string client_;
  const std::string owner_;
  const std::string tenant_;
  std::atomic<int> calls_in_flight_{0};
  const std::shared_ptr<runtime::DeviceQuota> tenant_device_;
  const runtime::ByteBudgets budgets_;
  context::SharedStore shared_;
  DeviceArrayStore arrays_;
  SharedMemoryRegions shared_memory_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Function>> functions_;
  std::map<std::string, v1::FunctionSpec> restored_;  // not compiled since the restore
  const int64_t max_functions_;
  int64_t next_function_ = 1;
  std::atomic<uint64_t> changes_{0};
  std::mutex snapshot_mu_;
  std::atomic<bool> closed_{false};
  std::atomic<int64_t> last_used_{Now()};
  const int64_t created_unix_;
  std::atomic<int64_t> last_used_unix_{UnixNow()};
};

// A session held by one call: while any lease lives the reaper does not expire the session, and
// the idle clock restarts when the call ends (a 12 s run counts as use for all 12 s).
class SessionLease {
 public:
  explicit SessionLease(std::shared_ptr<Session> session);
  ~SessionLease();
  SessionLease(SessionLease&& other) noexcept : session_(std::move(other.session_)) {}
  SessionLease& operator=(SessionLease&&) = delete;
  SessionLease(const SessionLease&) = delete;
  SessionLease& operator=(const SessionLease&) = delete;

  Session* operator->() const { return session_.get(); }
  Session& operator*() const { return *session_; }

 private:
  std::shared_ptr<Session> session_;
};

class SessionManager {
 public:
  // Sessions idle longer than `idle_timeout` are closed by a background reaper.
  explicit SessionManager(std::chrono::seconds idle_timeout, SessionLimits limits = {});
  ~SessionManager();

  // A session owned by `opener`; RESOURCE_EXHAUSTED when --max_sessions are open, or
  // --tenant_max_sessions of the opener's tenant.
  absl::StatusOr<std::shared_ptr<Session>> Open(const std::string& client,
                                                const Principal& opener = {});
  // A session to restore from a snapshot, under its saved id, owner and tenant, not registered
  // yet: Adopt registers it once filled. No limit is checked (it was admitted once).
  std::shared_ptr<Session> NewRestored(const std::string& id, const std::string& client,
                                       const Principal& owner, int64_t created_unix_s);
  // ALREADY_EXISTS when the id is taken.
  absl::Status Adopt(std::shared_ptr<Session> session);
  // Called with each session closed or expired, after it left the manager (not under its lock).
  // Returns once no call of the previous callback is in progress, so clearing it (nullptr)
  // before what it uses goes away is safe.
  void SetOnClosed(std::function<void(std::shared_ptr<Session>)> on_closed);
  // Finds a session and holds it for the caller's call (see SessionLease). Another owner's
  // session is NOT_FOUND, exactly as a missing one: the answer does not confirm it exists.
  absl::StatusOr<SessionLease> Find(const std::string& id, const std::string& owner = "");
  absl::Status Close(const std::string& id, const std::string& owner = "");
  size_t size() const;
  // A snapshot of the open sessions (for metrics); does not mark them used.
  std::vector<std::shared_ptr<Session>> List() const;
  std::chrono::seconds idle_timeout() const { return idle_timeout_; }

 private:
  void ReapLoop();
  std::shared_ptr<runtime::ByteBudget> TenantMemoryLocked(const std::string& tenant);
  std::shared_ptr<runtime::DeviceQuota> TenantDeviceLocked(const std::string& tenant);
  void Closed(std::vector<std::shared_ptr<Session>> gone);

  const std::chrono::seconds idle_timeout_;
  const SessionLimits limits_;
  mutable std::mutex mu_;
  // Each tenant's --tenant_memory_quota budget, shared by its sessions' stores.
  std::map<std::string, std::shared_ptr<runtime::ByteBudget>> tenant_memory_;
  std::map<std::string, std::shared_ptr<runtime::DeviceQuota>> tenant_device_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  // Calls hold callback_mu_ shared, SetOnClosed exclusive.
  std::shared_mutex callback_mu_;
  std::function<void(std::shared_ptr<Session>)> on_closed_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread reaper_;
};

}  // namespace tensord::server
