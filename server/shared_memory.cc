#include "server/shared_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/common/status.h"
#include "engine/frontend/proto_convert.h"
#include "server/guarded_copy.h"

namespace tensord::server {

bool IsLocalPeer(absl::string_view peer) {
  if (absl::StartsWith(peer, "unix:") || absl::StartsWith(peer, "unix-abstract:")) return true;
  if (absl::StartsWith(peer, "ipv4:127.")) return true;
  // gRPC writes IPv6 peers as URIs, brackets percent-encoded in newer releases.
  for (absl::string_view host :
       {"ipv6:[::1]:", "ipv6:%5B::1%5D:", "ipv6:[::ffff:127.", "ipv6:%5B::ffff:127."}) {
    if (absl::StartsWith(peer, host)) return true;
  }
  return false;
}

// Regions registered in all sessions: each holds a mapping, and the process may have only so
// many (vm.max_map_count).
std::atomic<int> regions_in_server{0};

struct SharedMemoryRegions::Region {
  Region(std::string key, int64_t byte_size, void* mapping, size_t mapping_bytes, char* data)
      : key(std::move(key)),
        byte_size(byte_size),
        mapping(mapping),
        mapping_bytes(mapping_bytes),
        data(data) {}  // its slot in regions_in_server was taken by Register
  ~Region() {
    munmap(mapping, mapping_bytes);
    --regions_in_server;
  }
  Region(const Region&) = delete;
  Region& operator=(const Region&) = delete;

  const std::string key;
  const int64_t byte_size;
  // The object mapped from the page holding the region's offset on (the mapping keeps the
  // object alive; its descriptor is closed); `data` is the region's first byte.
  void* const mapping;
  const size_t mapping_bytes;
  char* const data;
};

namespace {

bool NameCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

absl::Status CheckKey(const std::string& key) {
  constexpr absl::string_view kPrefix = "/tensord";
  bool ok = absl::StartsWith(key, kPrefix) && key.size() <= 255;
  for (char c : absl::string_view(key).substr(1)) ok = ok && NameCharacter(c);
  if (!ok) {
    return InvalidArgument("shared-memory key '", key.substr(0, 300), "' must be \"", kPrefix,
                           "\" followed by letters, digits, '-', '_' or '.' (at most 255 in all)");
  }
  return absl::OkStatus();
}

absl::Status ErrnoStatus(int error, absl::string_view what) {
  std::string text = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(text);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(text);
    case ELOOP:  // shm_open does not follow a symbolic link
      return absl::InvalidArgumentError(absl::StrCat(text, " (a symbolic link)"));
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case ENOSPC:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::InternalError(text);
  }
}

absl::Status Prefixed(const absl::Status& error, absl::string_view what) {
  return absl::Status(error.code(), absl::StrCat(what, ": ", error.message()));
}

// Whether [offset, offset + bytes) lies inside [0, size), without overflow.
bool Inside(int64_t offset, int64_t bytes, int64_t size) {
  return offset >= 0 && bytes >= 0 && offset <= size && bytes <= size - offset;
}

}  // namespace

// FAILED_PRECONDITION for a copy that met the end of a shrunk object (server/guarded_copy.h).
absl::Status SharedMemoryRegions::Shrank(absl::string_view what, const Region& region) {
  return FailedPrecondition(what, ": shared-memory object '", region.key,
                            "' shrank below its registered region");
}

absl::Status SharedMemoryRegions::Register(const std::string& name, const std::string& key,
                                           int64_t offset, int64_t byte_size,
                                           const std::string& proof) {
  if (name.empty()) return InvalidArgument("a shared-memory region needs a name");
  if (name.size() > 256) return InvalidArgument("shared-memory region names are at most 256 bytes");
  TENSORD_RETURN_IF_ERROR(CheckKey(key));
  if (offset < 0 || byte_size < kProofBytes) {
    return InvalidArgument("shared-memory region '", name, "': offset ", offset, " and byte_size ",
                           byte_size, " must not be negative, and a region holds at least its ",
                           kProofBytes, " bytes of proof");
  }
  if (proof.size() != kProofBytes) {
    return InvalidArgument("shared-memory region '", name, "': the proof must be ", kProofBytes,
                           " bytes, got ", proof.size());
  }
  bool all_zero = true;
  for (char c : proof) all_zero = all_zero && c == 0;
  if (all_zero) {
    return InvalidArgument("shared-memory region '", name,
                           "': the proof must be random bytes, not zeros (a new object's bytes)");
  }
  // A slot in the server's count, taken now (so that concurrent registrations cannot pass the
  // limit together) and handed to the region, or given back. Replacing a region by name takes
  // no new room for long: the old one goes.
  bool replacing;
  {
    std::lock_guard lock(mu_);
    replacing = regions_.count(name) > 0;
  }
  struct Reservation {
    bool held = true;
    ~Reservation() {
      if (held) --regions_in_server;
    }
  } reservation;
  if (regions_in_server.fetch_add(1) >= kMaxRegionsInServer && !replacing) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server holds ", kMaxRegionsInServer,
                     " shared-memory regions, its most; close sessions or unregister regions"));
  }
  // O_NONBLOCK: should the name be a FIFO, opening it must not wait for a writer (and it is
  // refused below as not a regular file). shm_open adds O_NOFOLLOW and O_CLOEXEC.
  const int fd = shm_open(key.c_str(), O_RDWR | O_NONBLOCK, 0);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("shared-memory object '", key, "'"));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }  // the mapping keeps the object
  } closer{fd};
  struct stat st;
  if (fstat(fd, &st) != 0) return ErrnoStatus(errno, absl::StrCat("fstat of '", key, "'"));
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("shared-memory object '", key, "' is not a shared-memory object");
  }
  if (!Inside(offset, byte_size, st.st_size)) {
    return InvalidArgument("shared-memory region '", name, "' (", byte_size, " bytes from offset ",
                           offset, ") does not fit in '", key, "', which holds ", st.st_size,
                           " bytes");
  }
  // The server opens the object with its own rights, so the caller must show it has them too:
  // only a process that can read the object knows the random bytes its creator put at its start
  // (whatever region of it is registered), while its name in /dev/shm is visible to every local
  // user. pread cannot fault, whatever the object's size is by now.
  char found[kProofBytes];
  if (pread(fd, found, kProofBytes, 0) != kProofBytes ||
      std::memcmp(found, proof.data(), kProofBytes) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "shared-memory region '", name, "': the object's first ", kProofBytes,
        " bytes are not the request's proof (the registering client writes them there)"));
  }
  const int64_t page = sysconf(_SC_PAGESIZE);
  const int64_t start = offset / page * page;
  const size_t mapping_bytes = static_cast<size_t>(offset - start + byte_size);
  void* mapping = mmap(nullptr, mapping_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, start);
  if (mapping == MAP_FAILED) {
    return ErrnoStatus(errno, absl::StrCat("mapping shared-memory object '", key, "'"));
  }
  reservation.held = false;  // the region's now
  auto region = std::make_shared<const Region>(key, byte_size, mapping, mapping_bytes,
                                               static_cast<char*>(mapping) + (offset - start));
  std::lock_guard lock(mu_);
  if (regions_.size() >= kMaxRegions && regions_.count(name) == 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("a session may register ", kMaxRegions,
                     " shared-memory regions at once; unregister one first"));
  }
  regions_[name] = std::move(region);
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<const SharedMemoryRegions::Region>> SharedMemoryRegions::FindSlot(
    const v1::ShmSlot& slot, absl::string_view what) const {
  TENSORD_ASSIGN_OR_RETURN(auto region, Find(slot.region(), what));
  if (!Inside(slot.offset(), slot.byte_size(), region->byte_size)) {
    return InvalidArgument(what, ": the slot of ", slot.byte_size(), " bytes from offset ",
                           slot.offset(), " does not fit in shared-memory region '", slot.region(),
                           "' (", region->byte_size, " bytes)");
  }
  return region;
}

absl::Status SharedMemoryRegions::CheckSlot(const v1::ShmSlot& slot, absl::string_view what) const {
  return FindSlot(slot, what).status();
}

absl::Status SharedMemoryRegions::Unregister(const std::string& name) {
  std::lock_guard lock(mu_);
  if (name.empty()) {
    regions_.clear();
    return absl::OkStatus();
  }
  if (regions_.erase(name) == 0) {
    return NotFound("no shared-memory region '", name, "' is registered in this session");
  }
  return absl::OkStatus();
}

int SharedMemoryRegions::size() const {
  std::lock_guard lock(mu_);
  return static_cast<int>(regions_.size());
}

absl::StatusOr<std::shared_ptr<const SharedMemoryRegions::Region>> SharedMemoryRegions::Find(
    const std::string& name, absl::string_view what) const {
  std::lock_guard lock(mu_);
  auto it = regions_.find(name);
  if (it == regions_.end()) {
    return NotFound(what, ": no shared-memory region '", name,
                    "' is registered in this session (a restarted server has none: register it "
                    "again)");
  }
  return it->second;
}

absl::StatusOr<runtime::Tensor> SharedMemoryRegions::Read(const v1::ShmTensor& where,
                                                          absl::string_view what) const {
  TENSORD_ASSIGN_OR_RETURN(auto region, Find(where.region(), what));
  auto layout = ir::CheckWireLayout(where.dtype(), where.shape());
  if (!layout.ok()) return Prefixed(layout.status(), what);
  const int64_t bytes = static_cast<int64_t>(layout->bytes);
  if (!Inside(where.offset(), bytes, region->byte_size)) {
    return InvalidArgument(what, ": ", bytes, " bytes from offset ", where.offset(),
                           " do not fit in shared-memory region '", where.region(), "' (",
                           region->byte_size, " bytes)");
  }
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor t,
                           runtime::Tensor::Allocate(layout->dtype, layout->shape));
  if (bytes > 0 && !GuardedCopy(t.raw(), region->data + where.offset(), bytes)) {
    return Shrank(what, *region);
  }
  auto checked = ir::CheckWireElements(t);
  if (!checked.ok()) return Prefixed(checked, what);
  return t;
}

absl::StatusOr<bool> SharedMemoryRegions::Write(const v1::ShmSlot& slot,
                                                const runtime::Tensor& tensor,
                                                absl::string_view what,
                                                v1::ShmTensor* written) const {
  TENSORD_ASSIGN_OR_RETURN(auto region, FindSlot(slot, what));
  const int64_t bytes = static_cast<int64_t>(tensor.num_bytes());
  if (bytes > slot.byte_size()) return false;
  runtime::Tensor contiguous = cpu::Contiguous(tensor);
  if (bytes > 0 && !GuardedCopy(region->data + slot.offset(), contiguous.raw(), bytes)) {
    return Shrank(what, *region);
  }
  written->set_region(slot.region());
  written->set_offset(slot.offset());
  written->set_dtype(static_cast<v1::DType>(tensor.dtype()));
  written->clear_shape();
  for (int64_t d : tensor.shape()) written->add_shape(d);
  return true;
}

}  // namespace tensord::server
