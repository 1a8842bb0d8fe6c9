// A canonical text of a function's graph: equal for graphs that compute the same thing with
// the same types, whatever their variable ids, names or shared-variable bindings. It is the
// compile cache key (exact, so no collision can hand out the wrong executable).
#pragma once

#include <string>
#include <vector>

#include "engine/ir/graph.h"

namespace tensord::ir {

struct CanonicalForm {
  std::string key;
  // Shared variables in the order the key numbers them: a function binds its session's
  // shared ids to the executable in this order.
  std::vector<const Variable*> shared;
};

// `updates` are (shared variable, new value) pairs; `extra` carries options that change the
// compiled code (mode, context, allow_input_downcast).
CanonicalForm Canonicalize(const Graph& graph,
                           const std::vector<std::pair<Variable*, Variable*>>& updates,
                           const std::string& extra);

// Exact texts of an attribute value and a type: equal texts mean equal values (strings are
// length-prefixed, doubles printed exactly). Used by the cache key and by the merge pass.
std::string AttrText(const AttrValue& value);
std::string TypeText(const Type& t);

// The canonical forms of a node's bodies, length-prefixed ("" without bodies): two nodes with
// equal texts run the same inner graphs. Part of the cache key and of the merge pass's key.
std::string BodiesText(const Apply& node);

// A short printable digest of a key (hex of a 64-bit FNV-1a hash).
std::string Digest(const std::string& key);

}  // namespace tensord::ir
