// The optimizer: one ordered list of passes per mode.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/passes/pass.h"
#include "engine/passes/placement.h"

namespace tensord::passes {

struct PipelineOptions {
  // FAST_RUN: every pass; FAST_COMPILE: only the cheap cleanups (see pipeline.cc).
  std::string mode = "FAST_RUN";
  // Pass names to skip (Theano's optimizer_excluding).
  std::vector<std::string> excluding;
  // Verify the graph after every pass, naming the pass that broke it (tests, DebugMode).
  bool verify_each = false;
};

// What one pipeline run did, pass by pass.
struct PassRecord {
  std::string name;
  bool changed = false;
  int64_t duration_ns = 0;
};

class Pipeline {
 public:
  // With `placement`, the pipeline also places the graph (placement.h) before the inplace pass,
  // whatever the mode or exclusions: a compiled function's nodes always run somewhere. Without
  // it (graphs of pass tests), nothing is placed.
  explicit Pipeline(PipelineOptions options, std::optional<Placement> placement = std::nullopt);

  // Runs every pass in order; `trace`, when set, receives one record per pass run.
  absl::Status Run(ir::Graph& graph, std::vector<PassRecord>* trace = nullptr) const;

  const std::vector<std::unique_ptr<Pass>>& passes() const { return passes_; }

  // Every pass name any mode may run, for validating optimizer_excluding.
  static std::vector<std::string> AllPassNames();

 private:
  PipelineOptions options_;
  std::vector<std::unique_ptr<Pass>> passes_;
};

}  // namespace tensord::passes
