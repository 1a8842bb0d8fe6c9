// Small helpers the client's builder tests share: inspect what a builder produced.
#pragma once

#include <cstdint>
#include <vector>

#include "tensord/graph.h"

namespace tensord::client::testing {

inline std::vector<bool> Bc(Var v) { return v.broadcastable(); }

// The apply that produced `v` in `g`'s graph, or null for inputs and constants.
inline const ::tensord::v1::Apply* ProducerOf(const GraphBuilder& g, Var v) {
  for (const auto& a : g.graph().applies()) {
    for (int64_t out : a.outputs()) {
      if (out == v.id()) return &a;
    }
  }
  return nullptr;
}

inline std::vector<int64_t> Ints(const ::tensord::v1::AttrValue& attr) {
  return {attr.ints().values().begin(), attr.ints().values().end()};
}

}  // namespace tensord::client::testing
