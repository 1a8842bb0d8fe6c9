// Structural and type invariants of a graph. Compilation runs it after its own rewrites, and
// tests run it after every pass, so a rewrite that breaks the graph is caught where it happens.
#pragma once

#include "engine/ir/graph.h"

namespace tensord::ir {

// Checks: applies in topological order; every apply input is a graph input, constant, shared
// variable or the output of an earlier apply; outputs point back to their apply; each op is
// registered and its inferred output types equal the stored ones; graph outputs are defined.
absl::Status Verify(const Graph& graph);

}  // namespace tensord::ir
