// Test support for engine/compile: build graphs node by node and compile them.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"

namespace tensord::compile::testing {

// One type-checked apply of `op` appended to g; its first output.
inline ir::Variable* Node(ir::Graph& g, const std::string& op, std::vector<ir::Variable*> in,
                          ir::Attrs attrs = {}) {
  ops::NodeBuilder b(g);
  ir::Variable* out = b.Apply(op, std::move(in), std::move(attrs));
  EXPECT_TRUE(b.status().ok()) << b.status();
  return out;
}

// Prepares (FAST_RUN, no givens) and builds g, failing the test on an error.
inline std::shared_ptr<Executable> Build(std::unique_ptr<ir::Graph> g,
                                         std::vector<Substitution> updates = {}) {
  auto prepared = PrepareFunction(std::move(g), std::move(updates), {}, CompileOptions{});
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return exe.ok() ? *exe : nullptr;
}

}  // namespace tensord::compile::testing
