// Basic indexing at run time, shared by the CPU subtensor kernels and scan's kernel: resolving
// the index entries of engine/ops/defs/subtensor.h against the node's inputs, and writing into
// views.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/ops/defs/subtensor.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu::indexing {

using ops::subtensor::Entry;
using ops::subtensor::Field;

// An integer scalar tensor's value.
absl::StatusOr<int64_t> ReadScalarIndex(const runtime::Tensor& t);

// Resolves a field at run time against the node's inputs.
absl::StatusOr<int64_t> FieldValue(const Field& f, std::span<const runtime::Tensor* const> in);

// One dimension a basic index leaves: (length, stride) in the indexed tensor's elements.
struct Dim {
  int64_t size;
  int64_t stride;
};

// Applies an integer index to dim `axis` of size `n`: adds to `offset`, or the NumPy error.
absl::Status ApplyInt(int64_t index, int axis, int64_t n, int64_t stride, int64_t* offset);

// Applies a slice (Python's slice.indices) to dim of size `n`: adds to `offset`, returns the
// resulting dim.
absl::StatusOr<Dim> ApplySlice(const Entry& e, std::span<const runtime::Tensor* const> in,
                               int64_t n, int64_t stride, int64_t* offset);

// The view of `x` that basic indexing `entries` selects, its symbolic fields read from the
// node's inputs `in` (metadata only: x may be on a device).
absl::StatusOr<runtime::Tensor> BasicView(const runtime::Tensor& x,
                                          const std::vector<Entry>& entries,
                                          std::span<const runtime::Tensor* const> in);

// INVALID_ARGUMENT in NumPy's words unless `y` broadcasts to `dst`'s shape (metadata only).
absl::Status CheckAssignable(const runtime::Tensor& dst, const runtime::Tensor& y, bool set);

// Writes (set) or adds (inc) `y`, broadcast to `dst`'s shape, into the view `dst`.
absl::Status AssignInto(const runtime::Tensor& dst, const runtime::Tensor& y, bool set);

// A contiguous copy of `x` in a frame slot.
absl::Status CopyInto(const runtime::Tensor& x, runtime::Tensor& out);

}  // namespace tensord::cpu::indexing
