// --state_dir: the files that let a restarted server carry on. Snapshots of sessions live in
// DIR/sessions/<key>.snap (the one before as .snap.prev), where a session's key is the SHA-256
// of its id: the id is the session's credential and names no file. The compile cache's specs
// live in DIR/compiled/<sha256 of the cache key>.spec. DIR/LOCK keeps a second server out.
//
// Every file is one record: the magic "TENSORD\1", the header's length (8 bytes, little
// endian), the header (a protobuf message of server/state.proto), the blobs it describes, and
// the SHA-256 of all that. A record is written to a temporary file, fsynced and renamed into
// place, so a crash leaves the old file or the new one; a file that is torn or corrupt anyway
// (a disk, a hand edit) fails its checksum and is not used.
#pragma once

#include <functional>
#include <memory>
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
  std::string path;
  std::string bytes;
  size_t header_at = 0, header_size = 0, blobs_at = 0, blobs_size = 0;
  absl::string_view header() const {
    return absl::string_view(bytes).substr(header_at, header_size);
  }
  absl::string_view blobs() const { return absl::string_view(bytes).substr(blobs_at, blobs_size); }
  // DATA_LOSS when the header is not a `message`.
  absl::Status ParseHeader(google::protobuf::MessageLite& message) const;
};

// `durable`: fsync the file and the directory (snapshots); without it the rename is still
// atomic, but a power loss may lose the file (a cache's hint).
absl::Status WriteRecord(const std::string& path, const google::protobuf::MessageLite& header,
                         const std::vector<absl::string_view>& blobs, bool durable);
// DATA_LOSS for a file that is not a whole record (wrong magic, truncated, checksum mismatch).
absl::StatusOr<Record> ReadRecord(const std::string& path);

class StateDir {
 public:
  // Creates DIR and its subdirectories (mode 0700: snapshots hold sessions' values) where
  // missing and takes DIR/LOCK. FAILED_PRECONDITION when DIR cannot be created or written, is
  // writable by other users or owned by another, or another server holds it.
  static absl::StatusOr<std::unique_ptr<StateDir>> Open(const std::string& dir);
  ~StateDir();
  StateDir(const StateDir&) = delete;
  StateDir& operator=(const StateDir&) = delete;

  const std::string& dir() const { return dir_; }
  // The key naming a session's files: the SHA-256 of its id.
  static std::string KeyOf(const std::string& session_id);

  // Writes a session's snapshot: the new record first (fsynced), then the current one becomes
  // the previous, then the new one the current, then the directory is fsynced.
  absl::Status WriteSession(const std::string& key, const google::protobuf::MessageLite& header,
                            const std::vector<absl::string_view>& blobs);
  enum class Generation { kCurrent, kPrevious };
  // The keys of every saved session.
  std::vector<std::string> SessionKeys() const;
  absl::StatusOr<Record> ReadSession(const std::string& key, Generation generation) const;
  // Renames a current snapshot found unusable to .snap.bad (kept for inspection), so the next
  // snapshot does not push the good previous one out.
  void SetAsideCurrent(const std::string& key);
  // Removes a session's snapshots (the previous first, so a crash midway never leaves an older
  // one to restore) and fsyncs the directory.
  void RemoveSession(const std::string& key);
  // Removes the snapshots whose key is not in `keep()`, asked after the directory is listed so
  // that a session opened and saved meanwhile keeps its snapshot.
  void RemoveStaleSessions(const std::function<std::set<std::string>()>& keep);

  // The sessions' clocks (state.proto's SessionClocks), beside their snapshots.
  absl::Status WriteClocks(const google::protobuf::MessageLite& clocks);
  absl::StatusOr<Record> ReadClocks() const;

  // Compile-cache specs, by the cache key; written without fsync.
  absl::Status WriteCompiled(const std::string& cache_key,
                             const google::protobuf::MessageLite& header);
  // The `max_entries` newest whole specs; older and corrupt ones are removed.
  std::vector<Record> ReadCompiled(size_t max_entries) const;
  void RemoveCompiled(const std::string& cache_key);

 private:
  StateDir(std::string dir, int lock_fd) : dir_(std::move(dir)), lock_fd_(lock_fd) {}
  std::string SessionPath(const std::string& key, const char* suffix) const;
  std::string CompiledPath(const std::string& cache_key) const;

  const std::string dir_;
  const int lock_fd_;  // holds DIR/LOCK (flock) while this object lives
};

}  // namespace tensord::server
