#include "engine/backends/kernel.h"

#include <cstdio>
#include <cstdlib>

#include "engine/ops/op_def.h"

namespace tensord::backends {

void KernelTable::Add(const std::string& op, MakeKernelFn make) {
  if (ops::Registry::Global().Find(op) == nullptr) {
    std::fprintf(stderr, "kernel for unknown op '%s'\n", op.c_str());
    std::abort();
  }
  if (!by_op_.emplace(op, std::move(make)).second) {
    std::fprintf(stderr, "second kernel for op '%s'\n", op.c_str());
    std::abort();
  }
}

const MakeKernelFn* KernelTable::Find(const std::string& op) const {
  auto it = by_op_.find(op);
  return it == by_op_.end() ? nullptr : &it->second;
}

}  // namespace tensord::backends
