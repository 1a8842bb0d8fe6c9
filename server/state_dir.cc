#include "server/state_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "server/digest.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace fs = std::filesystem;
namespace {

constexpr absl::string_view kMagic("TENSORD\1", 8);
constexpr size_t kLengthBytes = 8;
constexpr size_t kDigestBytes = 32;
constexpr const char* kCurrent = ".snap";
constexpr const char* kPrevious = ".snap.prev";
constexpr const char* kSetAside = ".snap.bad";
constexpr const char* kSpec = ".spec";
constexpr const char* kTemporary = ".tmp";

absl::Status Errno(const std::string& what, const std::string& path) {
  return absl::FailedPreconditionError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes all of `bytes`, retrying short writes.
bool WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

// 64 lowercase hex digits: what KeyOf makes, and nothing else names a file here.
bool IsKey(absl::string_view key) {
  return key.size() == 64 && std::all_of(key.begin(), key.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The key of a file named <key><suffix>, or "".
std::string KeyOfFile(const fs::path& p, const char* suffix) {
  const std::string name = p.filename().string();
  if (!absl::EndsWith(name, suffix)) return "";
  std::string key = name.substr(0, name.size() - std::strlen(suffix));
  return IsKey(key) ? key : "";
}

// The record's bytes into `tmp`, fsynced when `durable`; the caller renames it into place.
absl::Status WriteTemporary(const std::string& tmp, const google::protobuf::MessageLite& header,
                            const std::vector<absl::string_view>& blobs, bool durable) {
  std::string head;
  if (!header.SerializeToString(&head)) {
    return absl::InternalError("cannot serialize a --state_dir record's header");
  }
  char length[kLengthBytes];
  for (size_t i = 0; i < kLengthBytes; ++i) length[i] = static_cast<char>(head.size() >> (8 * i));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  Sha256 sha;
  bool ok = true;
  auto put = [&](absl::string_view bytes) {
    sha.Update(bytes);
    ok = ok && WriteAll(fd, bytes);
  };
  put(kMagic);
  put(absl::string_view(length, kLengthBytes));
  put(head);
  for (absl::string_view blob : blobs) put(blob);
  const Sha256Digest digest = sha.Finish();
  ok = ok &&
       WriteAll(fd, absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  ok = ok && (!durable || ::fsync(fd) == 0);
  const int saved_errno = errno;
  ::close(fd);
  if (ok) return absl::OkStatus();
  errno = saved_errno;
  absl::Status s = Errno("cannot write", tmp);
  ::unlink(tmp.c_str());
  return s;
}

void RemoveTemporaries(const fs::path& dir) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (absl::EndsWith(entry.path().filename().string(), kTemporary)) fs::remove(entry.path(), ec);
  }
}

// Creates `dir` mode 0700 when missing; an existing one must be a directory of this user that
// no other user may write to (snapshots hold sessions' values and owners).
absl::Status PrepareDirectory(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Errno("--state_dir: cannot create", dir);
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) return Errno("--state_dir: cannot read", dir);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("--state_dir: ", dir, " is not a directory"));
  }
  if (st.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("--state_dir: ", dir, " belongs to another user"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--state_dir: ", dir, " is writable by other users (chmod go-w, or use another)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Record::ParseHeader(google::protobuf::MessageLite& message) const {
  if (header_size > INT_MAX ||
      !message.ParseFromArray(header().data(), static_cast<int>(header_size))) {
    return absl::DataLossError(absl::StrCat(path, ": the header does not parse"));
  }
  return absl::OkStatus();
}

absl::Status WriteRecord(const std::string& path, const google::protobuf::MessageLite& header,
                         const std::vector<absl::string_view>& blobs, bool durable) {
  const std::string tmp = path + kTemporary;
  TENSORD_RETURN_IF_ERROR(WriteTemporary(tmp, header, blobs, durable));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("cannot rename into", path);
    ::unlink(tmp.c_str());
    return s;
  }
  if (durable && !SyncDirectory(fs::path(path).parent_path().string())) {
    return Errno("cannot sync the directory of", path);
  }
  return absl::OkStatus();
}

absl::StatusOr<Record> ReadRecord(const std::string& path) {
  Record r{.path = path};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return errno == ENOENT ? absl::NotFoundError(absl::StrCat("no file ", path))
                           : Errno("cannot read", path);
  }
  struct stat st {};
  bool ok = ::fstat(fd, &st) == 0;
  if (ok) r.bytes.resize(static_cast<size_t>(st.st_size));
  for (size_t got = 0; ok && got < r.bytes.size();) {
    ssize_t n = ::read(fd, r.bytes.data() + got, r.bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      r.bytes.resize(got);  // shrank while read: the check below refuses it
      break;
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (!ok) return Errno("cannot read", path);
  auto corrupt = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(path, " is not a whole record: ", why));
  };
  const absl::string_view all(r.bytes);
  if (all.size() < kMagic.size() + kLengthBytes + kDigestBytes) return corrupt("too short");
  if (all.substr(0, kMagic.size()) != kMagic) return corrupt("wrong magic");
  const absl::string_view body = all.substr(0, all.size() - kDigestBytes);
  Sha256 sha;
  sha.Update(body);
  const Sha256Digest digest = sha.Finish();
  if (std::memcmp(digest.data(), all.data() + body.size(), kDigestBytes) != 0) {
    return corrupt("checksum mismatch (torn or corrupt)");
  }
  uint64_t head_size = 0;
  for (size_t i = 0; i < kLengthBytes; ++i)
    head_size |= uint64_t{static_cast<uint8_t>(all[kMagic.size() + i])} << (8 * i);
  const size_t head_at = kMagic.size() + kLengthBytes;
  if (head_size > body.size() - head_at) return corrupt("header longer than the file");
  r.header_at = head_at;
  r.header_size = static_cast<size_t>(head_size);
  r.blobs_at = head_at + r.header_size;
  r.blobs_size = body.size() - r.blobs_at;
  return r;
}

absl::StatusOr<std::unique_ptr<StateDir>> StateDir::Open(const std::string& dir) {
  std::string root = fs::path(dir).lexically_normal().string();
  while (root.size() > 1 && root.back() == '/') root.pop_back();  // "x/state/" is "x/state"
  std::error_code ec;
  // Parents as the operator's umask has it; the directory itself and ours below mode 0700.
  if (const fs::path parent = fs::path(root).parent_path(); !parent.empty()) {
    fs::create_directories(parent, ec);
  }
  TENSORD_RETURN_IF_ERROR(PrepareDirectory(root));
  for (const char* sub : {"sessions", "compiled"}) {
    const std::string path = (fs::path(root) / sub).string();
    TENSORD_RETURN_IF_ERROR(PrepareDirectory(path));
    ::chmod(path.c_str(), 0700);
  }
  const std::string lock = (fs::path(root) / "LOCK").string();
  int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("--state_dir: cannot write in", root);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(absl::StrCat(
        "--state_dir ", root, " is in use by another tensord (each server needs its own)"));
  }
  // Left by writes a crash cut short; nothing else writes here now.
  RemoveTemporaries(fs::path(root) / "sessions");
  RemoveTemporaries(fs::path(root) / "compiled");
  return std::unique_ptr<StateDir>(new StateDir(root, fd));
}

StateDir::~StateDir() { ::close(lock_fd_); }

std::string StateDir::KeyOf(const std::string& session_id) { return Sha256Hex(session_id); }

std::string StateDir::SessionPath(const std::string& key, const char* suffix) const {
  return (fs::path(dir_) / "sessions" / key).string() + suffix;
}

absl::Status StateDir::WriteSession(const std::string& key,
                                    const google::protobuf::MessageLite& header,
                                    const std::vector<absl::string_view>& blobs) {
  if (!IsKey(key)) return absl::InvalidArgumentError("not a session key");
  const std::string current = SessionPath(key, kCurrent);
  const std::string fresh = current + kTemporary;
  TENSORD_RETURN_IF_ERROR(WriteTemporary(fresh, header, blobs, /*durable=*/true));
  // The current snapshot becomes the previous one (a link, so the current stays in place until
  // the fresh one replaces it): if the fresh one is ever found corrupt, the session comes back
  // as it was one snapshot earlier rather than not at all.
  const std::string previous = SessionPath(key, kPrevious);
  const std::string previous_tmp = previous + kTemporary;
  ::unlink(previous_tmp.c_str());
  if (::link(current.c_str(), previous_tmp.c_str()) == 0) {
    if (::rename(previous_tmp.c_str(), previous.c_str()) != 0) {
      ::unlink(previous_tmp.c_str());
    }
  } else if (errno != ENOENT) {
    // No hard links here (some filesystems): a rename leaves no current for a moment, which a
    // restore covers by reading the previous.
    ::rename(current.c_str(), previous.c_str());
  }
  if (::rename(fresh.c_str(), current.c_str()) != 0) {
    absl::Status s = Errno("cannot rename into", current);
    ::unlink(fresh.c_str());
    return s;
  }
  if (!SyncDirectory((fs::path(dir_) / "sessions").string())) {
    return Errno("cannot sync", (fs::path(dir_) / "sessions").string());
  }
  return absl::OkStatus();
}

std::vector<std::string> StateDir::SessionKeys() const {
  std::set<std::string> keys;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "sessions", ec)) {
    for (const char* suffix : {kCurrent, kPrevious}) {
      if (std::string key = KeyOfFile(entry.path(), suffix); !key.empty()) keys.insert(key);
    }
  }
  return {keys.begin(), keys.end()};
}

absl::StatusOr<Record> StateDir::ReadSession(const std::string& key, Generation generation) const {
  return ReadRecord(SessionPath(key, generation == Generation::kCurrent ? kCurrent : kPrevious));
}

void StateDir::SetAsideCurrent(const std::string& key) {
  ::rename(SessionPath(key, kCurrent).c_str(), SessionPath(key, kSetAside).c_str());
}

void StateDir::RemoveSession(const std::string& key) {
  if (!IsKey(key)) return;
  for (const char* suffix : {kPrevious, kCurrent, kSetAside}) {
    ::unlink(SessionPath(key, suffix).c_str());
  }
  SyncDirectory((fs::path(dir_) / "sessions").string());
}

void StateDir::RemoveStaleSessions(const std::function<std::set<std::string>()>& keep) {
  const std::vector<std::string> saved = SessionKeys();
  const std::set<std::string> kept = keep();
  for (const std::string& key : saved) {
    if (kept.count(key) == 0) RemoveSession(key);
  }
}

absl::Status StateDir::WriteClocks(const google::protobuf::MessageLite& clocks) {
  return WriteRecord((fs::path(dir_) / "sessions" / "clocks").string(), clocks, {},
                     /*durable=*/false);
}

absl::StatusOr<Record> StateDir::ReadClocks() const {
  return ReadRecord((fs::path(dir_) / "sessions" / "clocks").string());
}

std::string StateDir::CompiledPath(const std::string& cache_key) const {
  return (fs::path(dir_) / "compiled" / Sha256Hex(cache_key)).string() + kSpec;
}

absl::Status StateDir::WriteCompiled(const std::string& cache_key,
                                     const google::protobuf::MessageLite& header) {
  // Each key has its own file and temporary, and the cache builds a key once at a time.
  return WriteRecord(CompiledPath(cache_key), header, {}, /*durable=*/false);
}

void StateDir::RemoveCompiled(const std::string& cache_key) {
  ::unlink(CompiledPath(cache_key).c_str());
}

std::vector<Record> StateDir::ReadCompiled(size_t max_entries) const {
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "compiled", ec)) {
    if (!KeyOfFile(entry.path(), kSpec).empty()) {
      files.emplace_back(fs::last_write_time(entry.path(), ec), entry.path());
    }
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Record> out;
  for (const auto& [time, path] : files) {
    if (out.size() >= max_entries) {
      fs::remove(path, ec);  // past the cache's size
      continue;
    }
    auto record = ReadRecord(path.string());
    if (record.ok()) {
      out.push_back(*std::move(record));
    } else {
      spdlog::warn("--state_dir: {}; removed", std::string(record.status().message()));
      fs::remove(path, ec);
    }
  }
  return out;
}

}  // namespace tensord::server
