// From a decoded function spec to an Executable: givens, update checks, dead-code removal,
// canonical fingerprint, then instruction selection for the target context.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/compile/executable.h"
#include "engine/ir/fingerprint.h"
#include "engine/runtime/context.h"

namespace tensord::compile {

struct CompileOptions {
  bool allow_input_downcast = false;
  std::string mode = "FAST_RUN";
  const runtime::Context* context = nullptr;
};

// A function's graph after givens were applied, ready to fingerprint and build.
struct PreparedFunction {
  std::unique_ptr<ir::Graph> graph;
  std::vector<std::pair<ir::Variable*, ir::Variable*>> updates;  // (shared var, new value)
  ir::CanonicalForm canonical;
  CompileOptions options;
};

struct Substitution {
  ir::Variable* variable;
  ir::Variable* value;
};

// Applies givens, checks updates (target is a shared variable, value of the same type, no
// target twice) and that every input the outputs need is given, drops unused nodes and
// computes the canonical form.
absl::StatusOr<PreparedFunction> PrepareFunction(std::unique_ptr<ir::Graph> graph,
                                                 std::vector<Substitution> updates,
                                                 const std::vector<Substitution>& givens,
                                                 CompileOptions options);

// Selects kernels and plans slots.
absl::StatusOr<std::shared_ptr<Executable>> BuildExecutable(PreparedFunction prepared);

}  // namespace tensord::compile
