// Helpers shared by the creation, tile/repeat and join/sort op files (one op family, three
// files so each stays small). Registered together by RegisterCreationOps.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/op_def.h"

namespace tensord::ops::creation {

// An output dtype named by attr `dtype`; float16 and invalid values are refused.
absl::StatusOr<DType> DTypeAttr(const ir::Apply& node);

void RegisterTileRepeatOps(Registry& r);
void RegisterJoinSortOps(Registry& r);

}  // namespace tensord::ops::creation
