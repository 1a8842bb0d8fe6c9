// Dead-code removal: drops the nodes and variables no graph output depends on (rewrites leave
// the nodes they replaced behind). Callers that need other variables to survive (update values,
// shared variables) keep them among the graph outputs while the pipeline runs.
#pragma once

#include <memory>

#include "engine/passes/pass.h"

namespace tensord::passes {

std::unique_ptr<Pass> MakeDcePass();

}  // namespace tensord::passes
