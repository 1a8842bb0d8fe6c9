// Named device contexts, configured in Theano's syntax: "dev0->cuda0;dev1->cpu".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backends/cuda/device_runtime.h"
#include "engine/common/status.h"
#include "engine/context/device_memory.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::context {

using runtime::MemoryCounter;

// kSim: a simulated device for tests of placement, transfers and device memory without a GPU:
// host memory behind a device allocator and CPU kernels, but the server treats its buffers as
// device memory (accounted to it, reached only through transfer nodes).
// kCuda: a GPU (cudaN), or the CUDA emulator (emuN, device_runtime.h): the CUDA provider's
// kernels, which the emulator runs on the CPU over simulated memory the server reaches only
// through copies, as a GPU's, so that CI runs the provider.
enum class DeviceKind { kCpu, kCuda, kSim };

struct Context {
  std::string name;    // what users write: cpu, dev0, ...
  std::string device;  // what it maps to: cpu, cuda0, ...
  DeviceKind kind = DeviceKind::kCpu;
  int ordinal = 0;
  std::string description;
  // What runs the CUDA provider's kernels on a kCuda context (a GPU's or the emulator's).
  std::shared_ptr<cuda::DeviceRuntime> runtime;
  bool emulated = false;  // emuN
  // Bytes of the buffers charged to this context (never null once registered).
  MemoryCounter* memory = nullptr;
  // The device's allocator, which the context's buffers come from (shared by the contexts
  // mapped to one device); null for the host and unavailable contexts. A GPU's memory is not
  // the host's: the server reads and writes it through runtime::OnHost / IntoContext.
  std::shared_ptr<DeviceBlocks> blocks;
  // Why nothing can run here (a GPU this server does not see, listed because the contexts were
  // declared optional); empty when the context is usable.
  std::string unavailable;
  // Not host memory: values reach it and leave it through transfer nodes.
  bool is_device() const { return kind != DeviceKind::kCpu; }
};

class ContextRegistry {
 public:
  // `cpu` always exists. `contexts` is Theano's "name->device;..." list; `default_device`
  // (Theano's `device` flag: cpu, cuda, cuda0, or a context name) picks the default context.
  // CUDA devices must exist (the error says which is missing), unless `optional`: then a
  // context on a missing one is listed as unavailable, and Find refuses it by name.
  // Each device's memory is set up as `memory` says (a preallocation failing is the error).
  static absl::StatusOr<std::unique_ptr<ContextRegistry>> Create(
      const std::string& contexts, const std::string& default_device, bool optional = false,
      const DeviceMemoryOptions& memory = {});

  // Empty name means the default context. Unknown and unavailable contexts are
  // FAILED_PRECONDITION naming them.
  absl::StatusOr<const Context*> Find(const std::string& name) const;
  // Find, also accepting Theano's `device` value (cpu, cuda, cudaN, sim, simN) for the context
  // mapped to that device: what a client's config.device selects.
  absl::StatusOr<const Context*> FindNameOrDevice(const std::string& name_or_device) const;
  const Context& default_context() const { return *contexts_[default_index_]; }
  const std::vector<std::unique_ptr<Context>>& all() const { return contexts_; }
  // "cpu, dev0, dev1": the names, for error messages.
  std::string Names() const;
  // What the server logs about device memory: a line per preallocated device (Theano's).
  const std::vector<std::string>& memory_log() const { return memory_log_; }

 private:
  absl::StatusOr<Context*> AddDevice(const std::string& name, const std::string& device,
                                     bool optional);
  // The index of the context named `name_or_device`, or mapped to that device; -1 for none.
  int IndexOf(const std::string& name_or_device) const;
  // Gives each device context with an allocator its device's (one per device).
  absl::Status SetUpDeviceMemory(const DeviceMemoryOptions& options);

  std::vector<std::unique_ptr<Context>> contexts_;
  size_t default_index_ = 0;
  std::vector<std::string> memory_log_;
};

}  // namespace tensord::context
