// Device memory for a CUDA context's tensors, kept for reuse as Theano's CNMeM pool did: a
// training loop frees what it allocated the step before, so in steady state every allocation is
// a block the previous step gave back, with no cudaMalloc (which synchronizes the device) and no
// cudaFree. Device-independent: it asks a DeviceMemory for memory (cudaMalloc / cudaFree in
// production, a fake in the tests), so all of it is tested without a GPU.
//
// - Sizes are rounded to 512 bytes (2 MiB past 1 MiB), so a block serves any request of its
//   size class; a cached block serves a request of at most its size and at least half of it.
// - Stream order: a context runs its kernels on one stream, in issue order, so a block freed
//   after the kernels that read it were issued may go to the next kernel at once: the stream
//   runs that kernel after them. (A second stream would need an event per block.)
// - Preallocate (--preallocate, Theano's gpuarray.preallocate): one region of a fraction of the
//   device's memory (0 < v <= 1, at most 0.95 of it as Theano) or of v MiB (v > 1), carved
//   best-fit into blocks and merged back as they are freed; past it, blocks come from the
//   device one by one.
// - Out of memory: cached blocks are returned to the device and the request tried again, then
//   RESOURCE_EXHAUSTED naming the context, the size, and what is in use. Never an abort. Other
//   device errors pass through as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>

#include "absl/status/statusor.h"

namespace tensord::cuda {

class DeviceMemory {
 public:
  virtual ~DeviceMemory() = default;
  // RESOURCE_EXHAUSTED when the device has no room; another error for anything else.
  virtual absl::StatusOr<void*> Malloc(size_t bytes) = 0;
  virtual void Free(void* p) = 0;
  virtual size_t Total() const = 0;  // the device's memory, for a fraction to preallocate
  // False for memory only the device reaches (a GPU's): the host goes through the copies,
  // which wait for the device. A simulated device's is host memory, copied with memcpy.
  virtual bool host_accessible() const { return true; }
  virtual absl::Status CopyToHost(void* host, const void* device, size_t bytes);
  virtual absl::Status CopyFromHost(void* device, const void* host, size_t bytes);
};

// Host memory standing for a device's, at most `capacity` bytes out at once: a simulated
// device's (simN) memory, and the fake device of the tests. `separate`: the server reaches it
// only through the copies, as a GPU's (the host's kernels running on the simulated device
// still read it directly), so the paths a GPU takes run without one.
class SimulatedDeviceMemory : public DeviceMemory {
 public:
  explicit SimulatedDeviceMemory(size_t capacity, bool separate = false)
      : capacity_(capacity), separate_(separate) {}
  ~SimulatedDeviceMemory() override;  // frees what is still out
  absl::StatusOr<void*> Malloc(size_t bytes) override;
  void Free(void* p) override;
  size_t Total() const override { return capacity_; }
  bool host_accessible() const override { return !separate_; }
  size_t used() const;
  size_t blocks() const;

 private:
  const size_t capacity_;
  const bool separate_;
  mutable std::mutex mu_;
  size_t used_ = 0;
  std::unordered_map<void*, size_t> sizes_;
};

class CachingAllocator {
 public:
  struct Stats {
    int64_t in_use_bytes = 0;        // handed out now (rounded sizes)
    int64_t peak_bytes = 0;          // the most in use at once
    int64_t cached_bytes = 0;        // freed blocks kept for reuse, outside the preallocated region
    int64_t reserved_bytes = 0;      // the preallocated region
    int64_t device_allocations = 0;  // blocks asked of the device (the region counts once)
    int64_t allocations = 0;         // blocks handed out
  };

  // `context` names the context in messages ("cuda0").
  CachingAllocator(DeviceMemory& memory, std::string context);
  ~CachingAllocator();  // returns everything to the device
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  // Reserves the region (once, before the first allocation) and returns the line the server
  // logs, as Theano did: "Preallocating 12000/16000 Mb (0.750000) on cuda0".
  // INVALID_ARGUMENT for a value that is not a positive finite number, one too small for a
  // block, or a call after allocating; RESOURCE_EXHAUSTED when the device has no room for it.
  absl::StatusOr<std::string> Preallocate(double value);

  // A block of at least `bytes` (256-byte aligned, as cudaMalloc's); 0 bytes gives a block too.
  // RESOURCE_EXHAUSTED past the device's memory (or a size no device has).
  absl::StatusOr<void*> Allocate(size_t bytes);
  // Takes back a block Allocate gave; nullptr is ignored.
  void Free(void* p);
  // Returns the cached blocks (not the region) to the device.
  void EmptyCache();
  // Off (Theano's negative preallocate): a freed block outside the region goes back to the
  // device at once, so the device's own allocator sees every allocation (to debug a leak, or to
  // share the device with other processes).
  void SetCaching(bool caching);

  Stats stats() const;

  static size_t RoundSize(size_t bytes);

 private:
  void* FromRegion(size_t size);
  void ReturnToRegion(char* p, size_t size);
  void EmptyCacheLocked();

  DeviceMemory& memory_;
  const std::string context_;
  mutable std::mutex mu_;
  Stats stats_;
  bool caching_ = true;
  // The region: its base and size; its free ranges by offset (merged with their neighbours when
  // freed) and by size (best fit).
  char* region_ = nullptr;
  size_t region_size_ = 0;
  std::map<size_t, size_t> free_by_offset_;
  std::multimap<size_t, size_t> free_by_size_;
  // Blocks handed out: their rounded size and whether they are the region's.
  struct Live {
    size_t size;
    bool in_region;
  };
  std::unordered_map<void*, Live> live_;
  // Freed blocks from the device, by size.
  std::multimap<size_t, void*> cached_;
};

}  // namespace tensord::cuda
