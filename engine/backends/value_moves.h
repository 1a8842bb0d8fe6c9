// What a kernel that runs other kernels (scan's loop, compile/scan_kernel.cc) does with values
// between runs of its body, on the memory they live in: the host's (cpu::HostValueMoves), or a
// GPU's, whose elements the host cannot touch (cuda::DeviceValueMoves). Destinations are views
// into buffers the caller sized; shapes are the caller's to check.
#pragma once

#include "engine/common/status.h"
#include "engine/runtime/tensor.h"

namespace tensord::backends {

class ValueMoves {
 public:
  virtual ~ValueMoves() = default;
  // dst = src (one dtype, one shape).
  virtual absl::Status Copy(const runtime::Tensor& src, const runtime::Tensor& dst) = 0;
  // dst += src (float values of one dtype and shape).
  virtual absl::Status Add(const runtime::Tensor& src, const runtime::Tensor& dst) = 0;
  // `out` sized to `shape` and zeroed.
  virtual absl::Status Zeros(DType dtype, const runtime::Shape& shape, runtime::Tensor& out) = 0;
  // Whether a one-element value is nonzero (scan's until condition).
  virtual absl::StatusOr<bool> Truthy(const runtime::Tensor& t) = 0;
};

}  // namespace tensord::backends
