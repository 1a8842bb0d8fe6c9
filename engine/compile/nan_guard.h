// NanGuardMode (Theano's theano.compile.nanguardmode): after every instruction, the float
// values it produced are checked for NaN, +-inf and "big" values, and the run fails naming the
// node, so a diverging model is caught at the op that first went wrong.
#pragma once

#include <span>
#include <string>

#include "engine/common/status.h"
#include "engine/runtime/tensor.h"

namespace tensord::compile {

struct NanGuardOptions {
  bool nan_is_error = true;
  bool inf_is_error = true;
  bool big_is_error = true;
  // Theano's threshold: |x| above it counts as "big" (an exploding value about to overflow).
  double big_threshold = 1e10;
};

// Checks the float tensors among `outputs` (other dtypes cannot hold nan/inf). Fails with
// INVALID_ARGUMENT like "NanGuardMode: log(x) produced nan at index 3", where `label` names the
// node and the index is the element's position (flat for vectors, a tuple otherwise).
absl::Status CheckNanGuard(const NanGuardOptions& options, const std::string& label,
                           std::span<runtime::Tensor* const> outputs);

}  // namespace tensord::compile
