// dtype conversion with C++ (= NumPy for in-range values) semantics; bool targets test != 0.
#pragma once

#include "engine/runtime/tensor.h"

namespace tensord::cpu {

// Resizes `dst` to src's shape with dtype `to` and converts every element.
absl::Status CastInto(const runtime::Tensor& src, DType to, runtime::Tensor& dst);

}  // namespace tensord::cpu
