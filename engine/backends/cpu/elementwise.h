// The CPU kernel of every op with a scalar form (engine/ops/scalar_form.h): NumPy broadcasting
// over the inputs, the op's row loop for the dtype it computes in. Inputs arrive already cast
// (the compiler inserts casts), so one loop per dtype serves every input combination.
#pragma once

#include <memory>

#include "engine/backends/kernel.h"
#include "engine/ops/op_def.h"

namespace tensord::cpu {

// The kernel of `node`, whose op has a scalar form. Ops taking more inputs than the form's arity
// (add, mul) fold left: out = ((in0 op in1) op in2) ..., each step written into the output.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeElementwiseKernel(const ir::Apply& node);

}  // namespace tensord::cpu
