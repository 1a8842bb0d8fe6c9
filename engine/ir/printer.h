// Theano-style debugprint of a graph's outputs.
#pragma once

#include <string>

#include "engine/ir/graph.h"

namespace tensord::ir {

// Each apply prints as `op [id A] 'name'`, its inputs indented below with ` |`; a node
// printed before is referenced by its id only.
std::string DebugPrint(const Graph& graph);

}  // namespace tensord::ir
