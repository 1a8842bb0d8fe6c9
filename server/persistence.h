// --state_dir at work. Sessions are snapshotted (their shared variables and function specs;
// device arrays are not kept) every --snapshot_interval_s when they changed, on SaveSession and
// at shutdown, and restored with the same ids and owners when the server starts; their
// functions compile again when first used. The compile cache's specs are saved as each is
// first compiled and built into the cache again at start, so a restarted server's first calls
// find their executables compiled.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "engine/context/context.h"
#include "server/functions.h"
#include "server/session.h"
#include "server/state_dir.h"

namespace tensord::state {
class SessionSnapshot;
}

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

  // Brings back every saved session; what cannot be restored is logged and skipped.
  void RestoreSessions();
  // Builds up to `max_entries` saved specs into the compile cache, newest first, on a thread of
  // its own. A client compiling one of them meanwhile waits for that build instead of its own.
  void WarmCache(size_t max_entries);
  // Snapshots changed sessions every `interval` from now on (0: only on request and at stop).
  void Start(std::chrono::seconds interval);

  absl::StatusOr<SavedSession> Save(Session& session);
  // Saves every session that changed since its last snapshot, and removes the snapshots of
  // sessions closed or expired since.
  void SaveChanged();
  // A closed session: its snapshots go now.
  void Forget(const std::string& session_id);
  // Saves `spec`, which compiled to `key` reading `shared`, for WarmCache after a restart.
  void RememberCompiled(const std::string& key, const v1::FunctionSpec& spec,
                        const std::map<std::string, SharedDecl>& shared);

 private:
  absl::Status Restore(const Record& record, SavedSession* restored);
  // Restore's work; `session` is set once registered, so a failure can close it again.
  absl::Status RestoreInto(const Record& record, state::SessionSnapshot& snapshot,
                           std::shared_ptr<Session>& session);
  void SnapshotLoop(std::chrono::seconds interval);
  void WarmLoop(size_t max_entries);

  const std::unique_ptr<StateDir> dir_;
  SessionManager* const sessions_;
  FunctionService* const functions_;
  const context::ContextRegistry* const contexts_;
  std::mutex save_mu_;  // held by a whole Save
  std::mutex mu_;
  // Each session's change count when it was last saved (Session::changes).
  std::map<std::string, uint64_t> saved_changes_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::atomic<bool> stop_warming_{false};
  std::thread snapshots_;
  std::thread warming_;
};

}  // namespace tensord::server
