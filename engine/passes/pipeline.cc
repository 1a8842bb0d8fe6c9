#include "engine/passes/pipeline.h"

#include <algorithm>
#include <chrono>

#include "engine/frontend/verifier.h"
#include "engine/passes/canonicalize.h"
#include "engine/passes/constant_fold.h"
#include "engine/passes/conv_epilogue.h"
#include "engine/passes/dce.h"
#include "engine/passes/fusion.h"
#include "engine/passes/gemm.h"
#include "engine/passes/gemm_epilogue.h"
#include "engine/passes/inplace.h"
#include "engine/passes/merge.h"
#include "engine/passes/shape_of.h"
#include "engine/passes/simplify.h"
#include "engine/passes/specialize.h"
#include "engine/passes/stabilize.h"
#include "engine/runtime/interrupt.h"

namespace tensord::passes {
namespace {

struct Step {
  std::unique_ptr<Pass> (*make)();
  bool fast_compile;  // also part of FAST_COMPILE
};

// The order matters; each step says why it sits where it does.
std::vector<Step> Steps() {
  return {
      // CSE first: later rules see one variable per distinct value (x - x, a + b vs b + a).
      {MakeMergePass, true},
      // Before the algebra: shapes and dimshuffles of constants become constants, so rules
      // recognise the 0 of x + dimshuffle(0) and the 2 of x ** 2 as constants.
      {[] { return MakeConstantFoldPass(); }, false},
      // Shapes from the ops' shape rules, so that what is computed only for its shape is not
      // computed; before the algebra, which then simplifies the shape arithmetic too.
      {MakeShapeOfPass, false},
      // One normal form (flat sorted add/mul, negation pushed into sub) for the rules below.
      {MakeCanonicalizePass, false},
      // Identities on the canonical form (x * 1, exp(log x), dimshuffle chains ...).
      {MakeSimplifyPass, false},
      // Stable forms need the simplified graph (log(1 + x) after 0s and 1s are gone).
      {MakeStabilizePass, false},
      // Cheaper ops last: earlier rules match pow and mul, not sqr.
      {MakeSpecializePass, false},
      // Rewrites build nodes independently: merge the duplicates they made, fold the constant
      // subexpressions they exposed, then drop every replaced node.
      {MakeMergePass, false},
      {[] { return MakeConstantFoldPass(); }, false},
      {MakeDcePass, true},
      // -- fusion, gemm and inplace go here (last: they need the final algebra)
      // dot -> gemm and conv + bias (+ relu) -> conv_fused before fusion, which would otherwise
      // swallow the add into a composite.
      {MakeGemmPass, false},
      {MakeConvEpiloguePass, false},
      // Fusion sees the final elementwise graph (and the gemms), and drops what it replaced.
      {MakeFusionPass, false},
      {MakeReductionFusionPass, false},
      // A composite of a matrix product becomes the product's epilogue (dot_composite).
      {MakeGemmEpiloguePass, false},
      // Last: a rewrite after it could add a reader of a value it lets a node overwrite.
      {MakeInplacePass, false},
  };
}

}  // namespace

Pipeline::Pipeline(PipelineOptions options, std::optional<Placement> placement)
    : options_(std::move(options)) {
  for (const Step& step : Steps()) {
    if (options_.mode == "FAST_COMPILE" && !step.fast_compile) continue;
    std::unique_ptr<Pass> pass = step.make();
    const auto& ex = options_.excluding;
    auto excluded = [&](const std::string& name) {
      return std::find(ex.begin(), ex.end(), name) != ex.end();
    };
    if (excluded(pass->name())) continue;
    // Excluding fusion means no composites at all (PyTensor files its reduction fusion under
    // the same tag): reduction fusion would still make one of a lone op and its sum.
    if (pass->name() == "reduction_fusion" && excluded("fusion")) continue;
    passes_.push_back(std::move(pass));
  }
  // Placement is not an optimization: every mode runs it, and it goes before inplace, which
  // must see every reader of a value it lets a node overwrite (placement adds transfers).
  if (placement) {
    auto inplace = std::find_if(passes_.begin(), passes_.end(),
                                [](const auto& p) { return p->name() == "inplace"; });
    passes_.insert(inplace, MakePlacementPass(*std::move(placement)));
  }
}

std::vector<std::string> Pipeline::AllPassNames() {
  std::vector<std::string> names;
  for (const Step& step : Steps()) {
    std::string name = step.make()->name();
    // A pass may run at several points of the pipeline; it is one name to exclude.
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  return names;
}

absl::Status Pipeline::Run(ir::Graph& graph, std::vector<PassRecord>* trace) const {
  for (const auto& pass : passes_) {
    // A compile whose client gave up stops here rather than optimizing for nobody.
    TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
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
