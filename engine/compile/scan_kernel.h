// Kernels of ops with bodies (scan, scan_grad). The body is compiled once, when the outer
// function is, into its own Executable with the function's options (or the node's `mode`); each
// step runs it on views of the sequences and states, so no step re-plans or re-allocates more
// than the body's own outputs.
#pragma once

#include <memory>

#include "engine/backends/kernel.h"
#include "engine/compile/compiler.h"
#include "engine/ops/op_def.h"

namespace tensord::compile {

// `on`: the context the node runs on (null: the host, or no placement). On a GPU the body is
// placed there and the loop's copies run there.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeBodyKernel(const ir::Apply& node,
                                                                 const CompileOptions& options,
                                                                 const context::Context* on);

}  // namespace tensord::compile
