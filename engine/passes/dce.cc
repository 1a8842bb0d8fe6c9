#include "engine/passes/dce.h"

namespace tensord::passes {
namespace {

class DcePass final : public Pass {
 public:
  std::string name() const override { return "dce"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    const size_t applies = graph.applies().size();
    const size_t variables = graph.variables().size();
    graph.RemoveDeadNodes();
    return graph.applies().size() != applies || graph.variables().size() != variables;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeDcePass() { return std::make_unique<DcePass>(); }

}  // namespace tensord::passes
