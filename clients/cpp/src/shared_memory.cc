// SharedMemoryRegion: a POSIX shared-memory object of this process, registered in a session.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "src/rpc.h"
#include "tensord/client.h"

namespace tensord::client {

namespace v1 = ::tensord::v1;

namespace {

constexpr int kProofBytes = 16;  // RegisterSharedMemoryRequest.proof

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t got = getrandom(out.data() + done, n - done, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return absl::InternalError(absl::StrCat("getrandom: ", std::strerror(errno)));
    done += static_cast<size_t>(got);
  }
  return out;
}

absl::Status Errno(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", std::strerror(errno)));
}

}  // namespace

absl::StatusOr<int64_t> ShmTensor::ByteSize() const {
  // Refused past `available`, and without overflow on the way.
  int64_t bytes = static_cast<int64_t>(DTypeSize(dtype));
  bool fits = data != nullptr && bytes > 0;
  for (int64_t d : shape) {
    fits = fits && d >= 0 && (d == 0 || bytes <= available / d);
    if (fits) bytes *= d;
  }
  if (!fits || bytes > available) {
    return absl::InvalidArgumentError(absl::StrCat("shared-memory tensor at offset ", offset,
                                                   " of '", region, "' does not fit in the ",
                                                   available, " bytes it may span"));
  }
  return bytes;
}

absl::StatusOr<HostTensor> ShmTensor::ToHost() const {
  absl::StatusOr<int64_t> bytes = ByteSize();
  if (!bytes.ok()) return bytes.status();
  return HostTensor::FromBytes(dtype, shape, std::string(data, static_cast<size_t>(*bytes)));
}

SharedMemoryRegion::SharedMemoryRegion(SharedMemoryRegion&& other) noexcept
    : core_(std::move(other.core_)),
      name_(std::move(other.name_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedMemoryRegion& SharedMemoryRegion::operator=(SharedMemoryRegion&& other) noexcept {
  if (this != &other) {
    SharedMemoryRegion gone(std::move(*this));  // unregistered and unmapped on leaving
    core_ = std::move(other.core_);
    name_ = std::move(other.name_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedMemoryRegion::~SharedMemoryRegion() {
  if (data_ == nullptr) return;
  // Best effort, bounded by cleanup_timeout: a closed session has dropped it already.
  if (core_ != nullptr && core_->CheckOpen().ok()) {
    v1::UnregisterSharedMemoryRequest request;
    request.set_session_id(core_->session_id);
    request.set_name(name_);
    v1::UnregisterSharedMemoryResponse response;
    internal::Call(*core_->stub, &v1::Compute::Stub::UnregisterSharedMemory, request, &response,
                   core_->options.cleanup_timeout, core_->options.token, core_->routing_key)
        .IgnoreError();
  }
  munmap(data_, static_cast<size_t>(size_));
}

ShmTensor SharedMemoryRegion::Tensor(int64_t offset, DType dtype,
                                     std::vector<int64_t> shape) const {
  const bool inside = offset >= 0 && offset <= size_;
  return {name_,
          offset,
          dtype,
          std::move(shape),
          inside ? data_ + offset : nullptr,
          inside ? size_ - offset : 0};
}

absl::StatusOr<SharedMemoryRegion> Session::CreateSharedMemory(int64_t byte_size) {
  if (byte_size < kProofBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "CreateSharedMemory: ", byte_size, " bytes; a region holds at least ", kProofBytes));
  }
  if (absl::Status s = core_->CheckOpen(); !s.ok()) return s;
  absl::StatusOr<std::string> random = RandomBytes(12 + kProofBytes);
  if (!random.ok()) return random.status();
  const std::string name = "tensord-cpp-" + absl::BytesToHexString(random->substr(0, 12));
  const std::string key = "/" + name;
  const int fd = shm_open(key.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Errno("shm_open " + key);
  void* mapping = MAP_FAILED;
  if (ftruncate(fd, byte_size) == 0) {
    mapping =
        mmap(nullptr, static_cast<size_t>(byte_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  }
  absl::Status mapped = mapping == MAP_FAILED ? Errno("mapping " + key) : absl::OkStatus();
  close(fd);
  if (!mapped.ok()) {
    shm_unlink(key.c_str());
    return mapped;
  }
  // The region owns the mapping from here: any failure below unmaps it.
  SharedMemoryRegion region(core_, name, static_cast<char*>(mapping), byte_size);
  const std::string proof = random->substr(12);
  std::memcpy(region.data(), proof.data(), kProofBytes);
  v1::RegisterSharedMemoryRequest request;
  request.set_name(name);
  request.set_key(key);
  request.set_byte_size(byte_size);
  request.set_proof(proof);
  v1::RegisterSharedMemoryResponse response;
  absl::Status registered =
      internal::SessionCall(*core_, &v1::Compute::Stub::RegisterSharedMemory, request, &response);
  shm_unlink(key.c_str());  // the server has its own mapping, or never will
  if (!registered.ok()) {
    // Unless the server may have registered it without answering (the region then unregisters
    // it as it goes), there is nothing to unregister.
    const absl::StatusCode code = registered.code();
    if (code != absl::StatusCode::kUnavailable && code != absl::StatusCode::kDeadlineExceeded &&
        code != absl::StatusCode::kCancelled) {
      region.core_ = nullptr;
    }
    return registered;
  }
  return region;
}

}  // namespace tensord::client
