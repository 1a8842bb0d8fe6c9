// dtype conversion with C++ (= NumPy for in-range values) semantics; bool targets test != 0.
#pragma once

#include "engine/backends/kernel.h"
#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

// Resizes `dst` to src's shape with dtype `to` and converts every element; `src` may be strided.
absl::Status CastInto(const runtime::Tensor& src, DType to, runtime::Tensor& dst);

// Python's truthiness of a one-element tensor: nonzero, NaN included (ifelse's condition,
// scan's until).
absl::StatusOr<bool> IsTruthy(const runtime::Tensor& t);

// The kernel of the `cast` op, also inserted by the compiler where an elementwise input's dtype
// differs from the dtype the op computes in.
class CastKernel final : public backends::Kernel {
 public:
  explicit CastKernel(DType to) : to_(to) {}
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return CastInto(*in[0], to_, *out[0]);
  }

 private:
  DType to_;
};

}  // namespace tensord::cpu
