// The CPU execution provider: which ops the `cpu` context runs and the kernel of each node.
// Ops with a scalar form run the shared broadcasting kernel (elementwise.h) unless a family
// registers its own; every other op's kernel comes from its family's table (kernels/*.cc).
// Ops with bodies (scan) are built by the compiler, which compiles their bodies.
#pragma once

#include <memory>

#include "engine/backends/kernel.h"
#include "engine/ops/op_def.h"

namespace tensord::cpu {

// Every kernel factory of the CPU provider, by op.
const backends::KernelTable& Kernels();

bool Supports(const ops::OpDef& def);

// The kernel of `node` (resolved: node.def set), or UNIMPLEMENTED naming the op.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(const ir::Apply& node);

}  // namespace tensord::cpu
