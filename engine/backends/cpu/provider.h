// The CPU execution provider: which ops the `cpu` context runs and the kernel of each node. Ops
// with a scalar form run the shared broadcasting kernel (elementwise.h); the others bring their
// own factory (OpDef::make_cpu_kernel). Ops with bodies (scan) are built by the compiler.
#pragma once

#include <memory>

#include "engine/ops/op_def.h"

namespace tensord::cpu {

bool Supports(const ops::OpDef& def);

// The kernel of `node` (resolved: node.def set), or UNIMPLEMENTED naming the op.
absl::StatusOr<std::unique_ptr<ops::Kernel>> MakeNodeKernel(const ir::Apply& node);

}  // namespace tensord::cpu
