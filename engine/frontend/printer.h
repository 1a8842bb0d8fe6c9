// Theano-style printing of a graph: debugprint text and a Graphviz DOT rendering (pydotprint).
#pragma once

#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace tensord::ir {

struct PrintOptions {
  // For a compiled function: each apply line ends with the node's position in the schedule
  // (the applies' order), as Theano's debugprint of a function shows.
  bool print_order = false;
  // Printed after the graph's outputs: a function's update values, which Theano's compiled
  // graph also has as outputs.
  std::vector<const Variable*> extra_roots;
};

// Each apply prints as `Elemwise{add,no_inplace} [id A] 'name'   ` (plus its position with
// print_order), its inputs indented below with ` |`; a node printed before prints its line
// again without its inputs. Ops and constants print as Theano names them (theano_names.h).
std::string DebugPrint(const Graph& graph, const PrintOptions& options = {});

// A DOT digraph in the style of Theano's pydotprint: apply nodes as boxes labelled with their
// op, variables as ellipses (inputs green, constants and shared variables in their own colours,
// outputs blue), edges labelled with the input position when a node has several inputs.
std::string DotPrint(const Graph& graph, const PrintOptions& options = {});

}  // namespace tensord::ir
