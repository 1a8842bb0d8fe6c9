// --state_dir: the files that let a restarted server carry on. Sessions' snapshots live in
// DIR/sessions/<session id>.snap (the one before as .snap.prev) and the compile cache's specs in
// DIR/compiled/<sha256 of the key>.spec.
//
// Every file is one record: the magic "TENSORD\1", the header's length (8 bytes, little
// endian), the header (a protobuf message of server/state.proto), the blobs it describes, and
// the SHA-256 of all that. A record is written to a temporary file, fsynced and renamed over the
// old one, so a crash leaves the old file or the new one; a file that is torn or corrupt anyway
// (a disk, a hand edit) fails its checksum and is not used.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "engine/common/status.h"
#include "google/protobuf/message_lite.h"

namespace tensord::server {

// A record read back: the file's bytes and where its header and blobs lie in them (offsets, so
// a moved Record stays valid).
struct Record {
  std::string bytes;
  size_t header_at = 0, header_size = 0, blobs_at = 0, blobs_size = 0;
  absl::string_view header() const {
    return absl::string_view(bytes).substr(header_at, header_size);
  }
  absl::string_view blobs() const { return absl::string_view(bytes).substr(blobs_at, blobs_size); }
};

// `durable`: fsync the file and the directory before returning (snapshots); without it the
// rename is still atomic, but a power loss may lose the file (a cache's hint).
absl::Status WriteRecord(const std::string& path, const google::protobuf::MessageLite& header,
                         const std::vector<std::string>& blobs, bool durable);
// DATA_LOSS for a file that is not a whole record (wrong magic, truncated, checksum mismatch).
absl::StatusOr<Record> ReadRecord(const std::string& path);

class StateDir {
 public:
  // Creates DIR and its subdirectories (mode 0700: snapshots hold the sessions' values and ids)
  // where missing; FAILED_PRECONDITION when DIR cannot be created or written.
  static absl::StatusOr<std::unique_ptr<StateDir>> Open(const std::string& dir);

  const std::string& dir() const { return dir_; }

  // Snapshots, by session id (32 hex digits; anything else is refused).
  absl::Status WriteSession(const std::string& session_id,
                            const google::protobuf::MessageLite& header,
                            const std::vector<std::string>& blobs);
  // The newest whole snapshot of every saved session: a .snap that fails its check is reported
  // in `problems` and its .snap.prev used instead.
  std::vector<Record> ReadSessions(std::vector<std::string>* problems) const;
  void RemoveSession(const std::string& session_id);
  // Removes the snapshots of sessions that are not live (closed or expired since saved).
  // `live_ids` is asked after the directory is listed, so a session opened and saved meanwhile
  // keeps its snapshot.
  void RemoveStaleSessions(const std::function<std::set<std::string>()>& live_ids);

  // Compile-cache specs, by the cache key's digest; written without fsync.
  absl::Status WriteCompiled(const std::string& key, const google::protobuf::MessageLite& header);
  // The `max_entries` newest whole specs; older and corrupt ones are removed.
  std::vector<Record> ReadCompiled(size_t max_entries) const;
  void RemoveCompiled(const std::string& key);

 private:
  explicit StateDir(std::string dir) : dir_(std::move(dir)) {}
  std::string SessionPath(const std::string& session_id, const char* suffix) const;
  std::string CompiledPath(const std::string& key) const;

  const std::string dir_;
  // One writer at a time: a snapshot's rotation (.snap -> .snap.prev) must not interleave with
  // another's.
  std::mutex write_mu_;
};

}  // namespace tensord::server
