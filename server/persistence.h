// --state_dir at work. Sessions are snapshotted (their shared variables and function specs;
// device arrays are not kept) every --snapshot_interval_s when they changed, on SaveSession and
// at shutdown, and restored with the same ids, owners and idle clocks when the server starts;
// their functions compile again when first used. The compile cache's specs are saved as each
// is first compiled (and dropped when it is evicted) and built into the cache again at start,
// so a restarted server's first calls find their executables compiled.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "engine/context/context.h"
#include "server/functions.h"
#include "server/session.h"
#include "server/state_dir.h"

namespace tensord::server {

// What a snapshot held.
struct SavedSession {
  int64_t bytes = 0;
  int shared_variables = 0;
  int functions = 0;
};

class Persistence {
 public:
  // Everything passed must outlive this object.
  Persistence(std::unique_ptr<StateDir> dir, SessionManager* sessions, FunctionService* functions,
              const context::ContextRegistry* contexts);
  // Stops the snapshot and warming threads (a build in progress finishes first).
  ~Persistence();

  // Brings back every saved session from its newest snapshot (the one before when the newest
  // is corrupt); what cannot be restored is logged and its files are left alone. Sessions idle
  // past the timeout while the server was down are dropped.
  void RestoreSessions();
  // Builds up to `max_entries` saved specs into the compile cache, newest first, on a thread of
  // its own. A client compiling one of them meanwhile waits for that build instead of its own.
  void WarmCache(size_t max_entries);
  // Snapshots changed sessions every `interval` from now on (0: only on request and at stop).
  void Start(std::chrono::seconds interval);

  // FAILED_PRECONDITION for a closed session; UNAVAILABLE when the file could not be written
  // (the log says why: the message names server paths).
  absl::StatusOr<SavedSession> Save(Session& session);
  // Saves every session that changed since its last snapshot, and removes the snapshots of
  // sessions gone since.
  void SaveChanged();
  // A closed or expired session: its snapshots go now.
  void Forget(Session& session);
  // Saves `spec`, which compiled to `cache_key` reading `shared`, for WarmCache after a restart;
  // ForgetCompiled drops it when the cache evicts the key.
  void RememberCompiled(const std::string& cache_key, const v1::FunctionSpec& spec,
                        const std::map<std::string, SharedDecl>& shared);
  void ForgetCompiled(const std::string& cache_key);

 private:
  absl::StatusOr<SavedSession> SaveLocked(Session& session);  // snapshot_mutex() held
  // Restores one snapshot of the session whose files are `key`, last used at `clock` or when
  // the snapshot says, whichever is later; false when it expired while the server was down
  // (nothing restored). DATA_LOSS when the file is not what it claims.
  absl::StatusOr<bool> Restore(const Record& record, const std::string& key, int64_t clock,
                               SavedSession* restored);
  void SnapshotLoop(std::chrono::seconds interval);
  void WarmLoop(size_t max_entries);

  const std::unique_ptr<StateDir> dir_;
  SessionManager* const sessions_;
  FunctionService* const functions_;
  const context::ContextRegistry* const contexts_;
  std::mutex mu_;
  // Keys of saved sessions that did not restore: their files are kept for the operator.
  std::set<std::string> unrestored_;
  std::map<std::string, int64_t> unrestored_clocks_;  // their last-used times, as read
  std::condition_variable stop_cv_;
  std::atomic<bool> stopping_{false};
  std::thread snapshots_;
  std::thread warming_;
};

}  // namespace tensord::server
