// Shared-memory regions of a session (RegisterSharedMemory): POSIX shared-memory objects a
// client on this host made, which Run reads inputs from (Value.shm) and writes outputs into
// (RunRequest.output_slots) instead of carrying their bytes in messages.
//
// The server maps each region and copies an input's bytes out of it into a tensor buffer of its
// own (kernels never read the client's memory, which it may change or take away at any time)
// and an output's into it, once each. A client can shrink its object under the mapping, which
// turns an access past the new end into SIGBUS: the copies are guarded (server/guarded_copy.h),
// so that is FAILED_PRECONDITION for the call, not the end of the server.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/runtime/tensor.h"
#include "tensord/v1/tensor.pb.h"

namespace tensord::server {

// Whether a gRPC peer string (ServerContext::peer()) names a caller on this host: loopback
// (127.0.0.0/8, ::1, ::ffff:127.x) or a Unix socket. Shared memory is only for those.
bool IsLocalPeer(absl::string_view peer);

class SharedMemoryRegions {
 public:
  // What one session, and the whole server, may register at once.
  static constexpr int kMaxRegions = 64;
  static constexpr int kMaxRegionsInServer = 4096;
  // The bytes a registering client writes at the region's start and sends with the request.
  static constexpr int kProofBytes = 16;

  // Opens `key` (shm_open's name: "/tensord" then [A-Za-z0-9._-]), maps the `byte_size` bytes
  // from `offset` and keeps them as region `name`, replacing a region of that name, once the
  // object's first kProofBytes bytes (wherever the region starts) equal `proof`, which may not
  // be all zeros. INVALID_ARGUMENT for a malformed name, key, proof or
  // range, or an object smaller than the range; NOT_FOUND when no such object exists;
  // PERMISSION_DENIED when the server may not open it or the proof differs;
  // RESOURCE_EXHAUSTED past kMaxRegions or kMaxRegionsInServer.
  absl::Status Register(const std::string& name, const std::string& key, int64_t offset,
                        int64_t byte_size, const std::string& proof);
  // NOT_FOUND, naming `what`, unless the slot's region is registered; INVALID_ARGUMENT unless
  // the slot lies inside it.
  absl::Status CheckSlot(const v1::ShmSlot& slot, absl::string_view what) const;
  // Closes region `name` (NOT_FOUND unless registered); an empty name closes every region. A Run
  // reading or writing one finishes with the mapping it took.
  absl::Status Unregister(const std::string& name);
  int size() const;

  // The tensor `where` describes, read from its region into a new buffer and checked as a wire
  // tensor is (ir::CheckWireLayout). `what` names it in errors ("input 2").
  absl::StatusOr<runtime::Tensor> Read(const v1::ShmTensor& where, absl::string_view what) const;
  // Writes `tensor`'s C-order bytes at the start of `slot` and describes them in *written; false
  // (nothing written) when they do not fit in the slot. INVALID_ARGUMENT when the slot is not
  // inside its region; FAILED_PRECONDITION when the object no longer holds the bytes.
  absl::StatusOr<bool> Write(const v1::ShmSlot& slot, const runtime::Tensor& tensor,
                             absl::string_view what, v1::ShmTensor* written) const;

 private:
  struct Region;
  static absl::Status Shrank(absl::string_view what, const Region& region);
  absl::StatusOr<std::shared_ptr<const Region>> Find(const std::string& name,
                                                     absl::string_view what) const;
  // The slot's region, once the slot is known to lie inside it (CheckSlot's errors).
  absl::StatusOr<std::shared_ptr<const Region>> FindSlot(const v1::ShmSlot& slot,
                                                         absl::string_view what) const;

  mutable std::mutex mu_;
  // Held by shared_ptr: a Run keeps the mapping it reads through while another call
  // unregisters or replaces the region.
  std::map<std::string, std::shared_ptr<const Region>> regions_;
};

}  // namespace tensord::server
