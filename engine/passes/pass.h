// A graph-to-graph rewrite of the optimizer (DESIGN.md §5). Passes keep the graph valid: every
// output keeps its type, applies stay in topological order, and dead nodes may remain (the
// dead-code pass removes them).
#pragma once

#include <string>

#include "engine/common/status.h"
#include "engine/ir/graph.h"

namespace tensord::passes {

class Pass {
 public:
  virtual ~Pass() = default;
  // Stable and unique: the name optimizer_excluding uses and DebugMode reports.
  virtual std::string name() const = 0;
  // Returns whether the graph changed.
  virtual absl::StatusOr<bool> Run(ir::Graph& graph) = 0;
};

}  // namespace tensord::passes
