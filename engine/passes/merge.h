// Merge (common subexpression elimination): equal constants become one variable, then nodes
// with the same op, attributes and inputs become one node. It runs first so later rules see one
// variable per distinct value (x - x is recognised even when the two x were built twice).
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeMergePass();

}  // namespace tensord::passes
