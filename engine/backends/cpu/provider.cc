#include "engine/backends/cpu/provider.h"

#include "engine/backends/cpu/elementwise.h"

namespace tensord::cpu {

bool Supports(const ops::OpDef& def) {
  return static_cast<bool>(def.make_cpu_kernel) || def.scalar.has_value();
}

absl::StatusOr<std::unique_ptr<ops::Kernel>> MakeNodeKernel(const ir::Apply& node) {
  if (node.def == nullptr) return Internal("node '", node.op, "' is not resolved");
  if (node.def->make_cpu_kernel) return node.def->make_cpu_kernel(node);
  if (node.def->scalar) return MakeElementwiseKernel(node);
  return Unimplemented("op '", node.op, "' has no CPU kernel");
}

}  // namespace tensord::cpu
