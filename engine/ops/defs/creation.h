// Helpers shared by the creation, tile/repeat and join/sort op files (one op family, three
// files so each stays small). Registered together by RegisterCreationOps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops/op_def.h"

namespace tensord::ops::creation {

// The values of an integer tensor (any int dtype) as int64; bool and floats are refused
// because an index or a count must not be silently truncated.
absl::StatusOr<std::vector<int64_t>> ReadInts(const runtime::Tensor& t, const char* what);
absl::StatusOr<int64_t> ReadInt(const runtime::Tensor& t, const char* what);

// Compile-time checks that `v` is an integer tensor of rank `ndim`.
absl::Status RequireInt(const ir::Variable* v, int ndim, const char* what);

// The value of a 0-d integer constant, nullopt when `v` is not one (so type inference can use
// a known count or size the way Theano's get_scalar_constant_value does).
std::optional<int64_t> ConstantInt(const ir::Variable* v);

// An output dtype named by attr `dtype`; float16 and invalid values are refused.
absl::StatusOr<DType> DTypeAttr(const ir::Apply& node);

OpDef Def(std::string name, int min_in, int max_in, std::string doc, InferTypesFn infer,
          MakeKernelFn kernel, bool differentiable);

void RegisterTileRepeatOps(Registry& r);
void RegisterJoinSortOps(Registry& r);

}  // namespace tensord::ops::creation
