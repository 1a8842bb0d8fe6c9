// DebugMode (Theano's theano.compile.debugmode): a function is compiled twice, optimized and
// unoptimized, and every run executes both and compares outputs and update values. On a
// mismatch the optimizer is replayed pass by pass on the unoptimized graph, evaluating after
// each pass that changed it, to name the first pass after which the results differ. Slow by
// design: it is for finding a wrong rewrite, not for production.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/compile/executable.h"
#include "engine/passes/pipeline.h"

namespace tensord::compile {

// numpy.isclose-style: |optimized - unoptimized| <= atol + rtol * |unoptimized|.
struct Tolerance {
  double rtol = 0;
  double atol = 0;
};
// float32: 1e-4 both (reassociation and fused transcendental kernels differ in the last bits);
// float64: rtol 1e-5, atol 1e-8 (Theano's); other dtypes compare exactly.
Tolerance ToleranceFor(DType dtype);

// The optimizer as DebugMode replays it: a fresh ordered list of passes per call.
using PassList = std::vector<std::shared_ptr<passes::Pass>>;
using PassListFactory = std::function<PassList()>;

// The passes a Pipeline with `options` runs, in its order.
PassListFactory PipelinePasses(passes::PipelineOptions options);

// A deep copy: a new graph, with updates and the canonical shared order pointing into it.
PreparedFunction ClonePrepared(const PreparedFunction& prepared);

// A DebugMode executable's interceptor: Executable::Run calls it instead of running alone.
class DebugModeCheck final : public RunInterceptor {
 public:
  // `unoptimized`: the function before any pass (kept for replays); `reference`: its
  // executable built without optimization; `passes`: what the optimized executable ran.
  DebugModeCheck(PreparedFunction unoptimized, std::shared_ptr<Executable> reference,
                 PassListFactory passes);
  ~DebugModeCheck();

  // Runs `optimized` and the reference on the same values. A mismatch (or an optimized run
  // failing where the reference succeeds) is INVALID_ARGUMENT naming the output and the pass.
  absl::StatusOr<RunResult> Run(const Executable& optimized, std::vector<runtime::Tensor> inputs,
                                const std::vector<runtime::Tensor>& shared_values) const override;

  const Executable& reference() const { return *reference_; }
  size_t ApproximateBytes() const override;

 private:
  // Empty when `got` matches `want`; else what differs, naming the output or update.
  std::string Compare(const RunResult& got, const RunResult& want) const;
  // Compare, or what an optimized run's failure (where the reference ran) looks like.
  std::string Outcome(const absl::StatusOr<RunResult>& got, const RunResult& want) const;
  // Names the first pass after which the replayed graph's results differ from `want`
  // (`first_diff`: what the full optimization got wrong, not repeated when the same).
  std::string Bisect(const std::vector<runtime::Tensor>& inputs,
                     const std::vector<runtime::Tensor>& shared_values, const RunResult& want,
                     const std::string& first_diff) const;

  PreparedFunction unoptimized_;
  std::shared_ptr<Executable> reference_;
  PassListFactory passes_;
  std::vector<std::string> output_labels_;
  std::vector<std::string> update_labels_;
};

// Builds a DebugMode function: runs `passes` (default: the FAST_RUN pipeline minus
// options.optimizer_excluding) verifying the graph after each, builds the optimized and the
// unoptimized executables and returns the optimized one with the check attached.
absl::StatusOr<std::shared_ptr<Executable>> BuildDebugModeExecutable(
    PreparedFunction prepared, PassListFactory passes = nullptr);

}  // namespace tensord::compile
