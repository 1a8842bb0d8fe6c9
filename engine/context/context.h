// Named device contexts, configured in Theano's syntax: "dev0->cuda0;dev1->cpu".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/common/status.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::context {

using runtime::MemoryCounter;

enum class DeviceKind { kCpu, kCuda };

struct Context {
  std::string name;    // what users write: cpu, dev0, ...
  std::string device;  // what it maps to: cpu, cuda0, ...
  DeviceKind kind = DeviceKind::kCpu;
  int ordinal = 0;
  std::string description;
  // Bytes of the buffers charged to this context (never null once registered).
  MemoryCounter* memory = nullptr;
};

class ContextRegistry {
 public:
  // `cpu` always exists. `contexts` is Theano's "name->device;..." list; `default_device`
  // (Theano's `device` flag: cpu, cuda, cuda0, or a context name) picks the default context.
  // CUDA devices must exist (the error says which is missing).
  static absl::StatusOr<std::unique_ptr<ContextRegistry>> Create(const std::string& contexts,
                                                                 const std::string& default_device);

  // Empty name means the default context.
  absl::StatusOr<const Context*> Find(const std::string& name) const;
  const Context& default_context() const { return *contexts_[default_index_]; }
  const std::vector<std::unique_ptr<Context>>& all() const { return contexts_; }

 private:
  absl::StatusOr<Context*> AddDevice(const std::string& name, const std::string& device);

  std::vector<std::unique_ptr<Context>> contexts_;
  size_t default_index_ = 0;
};

}  // namespace tensord::context
