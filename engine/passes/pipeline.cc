#include "engine/passes/pipeline.h"

#include <algorithm>
#include <chrono>

#include "engine/ir/verifier.h"

namespace tensord::passes {
namespace {

struct Step {
  std::unique_ptr<Pass> (*make)();
  bool fast_compile;  // also part of FAST_COMPILE
};

// The order matters; each step says why it sits where it does.
std::vector<Step> Steps() {
  return {
      // Passes are added here by the optimizer work (issue 5), e.g.
      // {MakeMergePass, true},  // CSE first: later rules see one node per distinct value
  };
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options) : options_(std::move(options)) {
  for (const Step& step : Steps()) {
    if (options_.mode == "FAST_COMPILE" && !step.fast_compile) continue;
    std::unique_ptr<Pass> pass = step.make();
    const auto& ex = options_.excluding;
    if (std::find(ex.begin(), ex.end(), pass->name()) != ex.end()) continue;
    passes_.push_back(std::move(pass));
  }
}

std::vector<std::string> Pipeline::AllPassNames() {
  std::vector<std::string> names;
  for (const Step& step : Steps()) names.push_back(step.make()->name());
  return names;
}

absl::Status Pipeline::Run(ir::Graph& graph, std::vector<PassRecord>* trace) const {
  for (const auto& pass : passes_) {
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<bool> changed = pass->Run(graph);
    if (!changed.ok()) {
      return absl::Status(changed.status().code(), absl::StrCat("optimizer pass '", pass->name(),
                                                                "': ", changed.status().message()));
    }
    if (options_.verify_each) {
      if (absl::Status s = ir::Verify(graph); !s.ok()) {
        return Internal("optimizer pass '", pass->name(), "' left an invalid graph: ", s.message());
      }
    }
    if (trace != nullptr) {
      trace->push_back({pass->name(), *changed,
                        std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count()});
    }
  }
  return absl::OkStatus();
}

}  // namespace tensord::passes
