// Grad rules of the indexing ops (grads/subtensor.cc), named by their declarations in
// defs/subtensor.cc and defs/subtensor_advanced.cc.
#pragma once

#include <string>

#include "engine/ops/op_def.h"

namespace tensord::ops {

// The rule of a read whose gradient scatters with `inc_op` (subtensor: inc_subtensor).
GradFn IndexReadGrad(std::string inc_op);
// The rule of an inc/set whose y gradient reads with `read_op` (inc_subtensor: subtensor).
GradFn IndexIncGrad(std::string read_op);

}  // namespace tensord::ops
