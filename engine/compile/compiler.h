// From a decoded function spec to an Executable: givens, update checks, dead-code removal,
// canonical fingerprint, then instruction selection for the target context.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/compile/executable.h"
#include "engine/compile/nan_guard.h"
#include "engine/context/context.h"
#include "engine/ir/fingerprint.h"

namespace tensord::compile {

struct CompileOptions {
  bool allow_input_downcast = false;
  std::string mode = "FAST_RUN";
  const context::Context* context = nullptr;
  // Every context of the server and the context of each shared variable the function reads
  // (by shared id), for placement. Null registry: nothing is placed (engine tests).
  const context::ContextRegistry* contexts = nullptr;
  std::unordered_map<std::string, std::string> shared_context;
  // An op a device context has no kernel for runs on cpu with transfers instead of being
  // refused (FunctionSpec.cpu_fallback).
  bool cpu_fallback = false;
  // Pass names the optimizer skips (Theano's optimizer_excluding); DebugMode builds its
  // unoptimized reference by excluding every pass.
  std::vector<std::string> optimizer_excluding;
  // What NanGuardMode (mode == "NanGuardMode") treats as an error.
  NanGuardOptions nan_guard;
  // A scan body placed on a device (scan_kernel.h): the context its inputs live on and its
  // outputs end on ("" for a function, whose inputs and outputs are the host's).
  std::string body_context;
  // Theano's allow_gc=False (FunctionSpec.keep_intermediates): every intermediate keeps its
  // buffer until the run ends, and the executable's idle frames keep them for the next run.
  // By default an intermediate is dropped once its last reader has run, so that the allocator
  // hands its memory to later nodes: a run's peak is its live set, not the sum of its values.
  bool keep_intermediates = false;
};

// A function's graph after givens were applied, ready to fingerprint and build.
struct PreparedFunction {
  std::unique_ptr<ir::Graph> graph;
  std::vector<std::pair<ir::Variable*, ir::Variable*>> updates;  // (shared var, new value)
  ir::CanonicalForm canonical;
  CompileOptions options;
  // Time type-checking the graph after givens (the profile's validate time).
  int64_t validate_ns = 0;
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

struct OptimizeStats {
  int64_t optimizer_ns = 0;
  int nodes_before = 0;  // applies before the optimizer
  int nodes_after = 0;
  std::vector<OptimizerPassTime> passes;  // in the order they ran
};

// Runs the optimizer (engine/passes) that p.options asks for (mode, optimizer_excluding) on
// p.graph, keeping p.updates and p.canonical.shared valid, then drops dead nodes.
// BuildExecutable calls it; DescribeFunction too, so it shows the graph that runs.
absl::StatusOr<OptimizeStats> OptimizeFunction(PreparedFunction& p);

// Selects kernels and plans slots: an executable that knows no mode. BuildExecutable
// (engine/compile/modes.h) is the entry point that also applies the mode.
absl::StatusOr<std::shared_ptr<Executable>> BuildPlainExecutable(PreparedFunction prepared);

}  // namespace tensord::compile
