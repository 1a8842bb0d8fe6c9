#include "server/state_dir.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "server/digest.h"
#include "spdlog/spdlog.h"

namespace tensord::server {
namespace fs = std::filesystem;
namespace {

constexpr absl::string_view kMagic("TENSORD\1", 8);
constexpr size_t kLengthBytes = 8;
constexpr size_t kDigestBytes = 32;
constexpr const char* kSnapshot = ".snap";
constexpr const char* kPrevious = ".snap.prev";
constexpr const char* kCompiled = ".spec";

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

bool IsSessionId(absl::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return std::isxdigit(c) && !std::isupper(c);
         });
}

std::string Stem(const fs::path& p, const char* suffix) {
  std::string name = p.filename().string();
  return absl::EndsWith(name, suffix) ? name.substr(0, name.size() - std::strlen(suffix)) : "";
}

}  // namespace

absl::Status WriteRecord(const std::string& path, const google::protobuf::MessageLite& header,
                         const std::vector<std::string>& blobs, bool durable) {
  std::string head;
  if (!header.SerializeToString(&head)) {
    return absl::InternalError(absl::StrCat("cannot serialize the header of ", path));
  }
  char length[kLengthBytes];
  for (size_t i = 0; i < kLengthBytes; ++i) length[i] = static_cast<char>(head.size() >> (8 * i));
  const std::string tmp = absl::StrCat(path, ".tmp");
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
  for (const std::string& blob : blobs) put(blob);
  const Sha256Digest digest = sha.Finish();
  ok = ok &&
       WriteAll(fd, absl::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
  ok = ok && (!durable || ::fsync(fd) == 0);
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    errno = saved_errno;
    absl::Status s = Errno("cannot write", tmp);
    ::unlink(tmp.c_str());
    return s;
  }
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
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream content;
  content << in.rdbuf();
  Record r{.bytes = content.str()};
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
  r.header_size = head_size;
  r.blobs_at = head_at + head_size;
  r.blobs_size = body.size() - r.blobs_at;
  return r;
}

absl::StatusOr<std::unique_ptr<StateDir>> StateDir::Open(const std::string& dir) {
  std::error_code ec;
  for (const char* sub : {"", "sessions", "compiled"}) {
    const fs::path p = fs::path(dir) / sub;
    fs::create_directories(p, ec);
    if (ec) {
      return absl::FailedPreconditionError(
          absl::StrCat("--state_dir: cannot create ", p.string(), ": ", ec.message()));
    }
    ::chmod(p.c_str(), 0700);
  }
  std::unique_ptr<StateDir> state(new StateDir(fs::path(dir).lexically_normal().string()));
  // Found unwritable now rather than at the first snapshot, minutes later.
  const std::string probe = (fs::path(dir) / "sessions" / ".probe").string();
  int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("--state_dir: cannot write in", dir);
  ::close(fd);
  ::unlink(probe.c_str());
  return state;
}

std::string StateDir::SessionPath(const std::string& session_id, const char* suffix) const {
  return (fs::path(dir_) / "sessions" / session_id).string() + suffix;
}

absl::Status StateDir::WriteSession(const std::string& session_id,
                                    const google::protobuf::MessageLite& header,
                                    const std::vector<std::string>& blobs) {
  if (!IsSessionId(session_id)) return absl::InvalidArgumentError("not a session id");
  const std::string path = SessionPath(session_id, kSnapshot);
  std::lock_guard<std::mutex> lock(write_mu_);
  // The current snapshot becomes the previous one: if the new one is ever found corrupt, the
  // session comes back as it was one snapshot earlier rather than not at all.
  if (::rename(path.c_str(), SessionPath(session_id, kPrevious).c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot keep the previous snapshot", path);
  }
  return WriteRecord(path, header, blobs, /*durable=*/true);
}

std::vector<Record> StateDir::ReadSessions(std::vector<std::string>* problems) const {
  const fs::path sessions = fs::path(dir_) / "sessions";
  std::set<std::string> ids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(sessions, ec)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, ".tmp")) {  // a write a crash cut short
      fs::remove(entry.path(), ec);
      continue;
    }
    for (const char* suffix : {kSnapshot, kPrevious}) {
      if (std::string id = Stem(entry.path(), suffix); IsSessionId(id)) ids.insert(id);
    }
  }
  std::vector<Record> out;
  for (const std::string& id : ids) {
    auto record = ReadRecord(SessionPath(id, kSnapshot));
    if (!record.ok()) {
      auto previous = ReadRecord(SessionPath(id, kPrevious));
      if (!absl::IsNotFound(record.status())) {
        problems->push_back(absl::StrCat(
            record.status().message(),
            previous.ok() ? "; using the snapshot before it" : "; no earlier snapshot either"));
      } else if (!previous.ok() && !absl::IsNotFound(previous.status())) {
        problems->push_back(std::string(previous.status().message()));
      }
      record = std::move(previous);
    }
    if (record.ok()) out.push_back(*std::move(record));
  }
  return out;
}

void StateDir::RemoveSession(const std::string& session_id) {
  if (!IsSessionId(session_id)) return;
  std::lock_guard<std::mutex> lock(write_mu_);
  ::unlink(SessionPath(session_id, kSnapshot).c_str());
  ::unlink(SessionPath(session_id, kPrevious).c_str());
}

void StateDir::RemoveStaleSessions(const std::function<std::set<std::string>()>& live_ids) {
  std::error_code ec;
  std::set<std::string> saved;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "sessions", ec)) {
    for (const char* suffix : {kSnapshot, kPrevious}) {
      if (std::string id = Stem(entry.path(), suffix); IsSessionId(id)) saved.insert(id);
    }
  }
  const std::set<std::string> live = live_ids();
  for (const std::string& id : saved) {
    if (live.count(id) == 0) RemoveSession(id);
  }
}

std::string StateDir::CompiledPath(const std::string& key) const {
  return (fs::path(dir_) / "compiled" / Sha256Hex(key)).string() + kCompiled;
}

absl::Status StateDir::WriteCompiled(const std::string& key,
                                     const google::protobuf::MessageLite& header) {
  // No lock: each key has its own file and temporary, and the cache builds a key once.
  return WriteRecord(CompiledPath(key), header, {}, /*durable=*/false);
}

void StateDir::RemoveCompiled(const std::string& key) { ::unlink(CompiledPath(key).c_str()); }

std::vector<Record> StateDir::ReadCompiled(size_t max_entries) const {
  std::vector<std::pair<fs::file_time_type, fs::path>> files;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "compiled", ec)) {
    const fs::path& p = entry.path();
    if (absl::EndsWith(p.filename().string(), ".tmp")) {
      fs::remove(p, ec);
    } else if (p.extension() == kCompiled) {
      files.emplace_back(fs::last_write_time(p, ec), p);
    }
  }
  std::sort(files.begin(), files.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Record> out;
  for (const auto& [time, path] : files) {
    auto record = out.size() < max_entries ? ReadRecord(path.string())
                                           : absl::StatusOr<Record>(absl::CancelledError());
    if (record.ok()) {
      out.push_back(*std::move(record));
    } else {
      if (absl::IsDataLoss(record.status())) {
        spdlog::warn("--state_dir: {}; removed", std::string(record.status().message()));
      }
      fs::remove(path, ec);  // past the cache's size, or unusable
    }
  }
  return out;
}

}  // namespace tensord::server
