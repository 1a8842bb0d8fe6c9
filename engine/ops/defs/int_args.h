// Integer arguments (shapes, counts, dims) that ops read from tensors, shared by op families.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "engine/ir/graph.h"

namespace tensord::ops {

// The values of an integer tensor (any int dtype, any strides) as int64; bool and floats are
// refused because an index or a count must not be silently truncated.
absl::StatusOr<std::vector<int64_t>> ReadInts(const runtime::Tensor& t, const char* what);
absl::StatusOr<int64_t> ReadInt(const runtime::Tensor& t, const char* what);

// Compile-time check that `v` is an integer tensor of rank `ndim`.
absl::Status RequireInt(const ir::Variable* v, int ndim, const char* what);

// The value of a 0-d integer constant, nullopt when `v` is not one (so type inference can use
// a known count or size the way Theano's get_scalar_constant_value does).
std::optional<int64_t> ConstantInt(const ir::Variable* v);

}  // namespace tensord::ops
