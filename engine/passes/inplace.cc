#include "engine/passes/inplace.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops/defs/composite.h"
#include "engine/ops/op_def.h"

namespace tensord::passes {
namespace {

bool IsFusable(const ir::Apply& a) { return a.def != nullptr && a.def->FusionOpcode() >= 0; }

// Inputs `node`'s kernel may overwrite: it reads each of their elements before writing the same
// position of the output.
std::vector<int> WritablePositions(const ir::Apply& node) {
  const int n = static_cast<int>(node.inputs.size());
  std::vector<int> all(n);
  for (int k = 0; k < n; ++k) all[k] = k;
  if (node.op == "composite") return all;  // chunk i of every input is read before it is written
  if (node.op == "gemm") return {0};       // z; BLAS accumulates into it
  if (!IsFusable(node)) return {};
  const ops::ScalarForm& form = *node.def->scalar;
  if (form.predicate) return {};  // bool output, never an input's dtype here
  // A folding kernel (add, mul) writes (in0 op in1) into the output before it reads in2.
  if (node.def->FoldsLeft()) return {0, 1};
  if (form.bool_condition) return {1, 2};  // the condition is bool
  if (node.op == "fill") return {1};       // the model is another dtype, often
  return all;
}

bool WritesFreshMemory(const ir::Apply* a) {
  return a != nullptr && (IsFusable(*a) || a->op == "composite" || a->op == "gemm" ||
                          a->op == "dot" || a->op == "dot_composite");
}

// The output can take v's buffer only if they can have the same shape and dtype.
bool SameLayout(const ir::Type& v, const ir::Type& out) {
  if (v.dtype != out.dtype || v.ndim() != out.ndim()) return false;
  for (int d = 0; d < v.ndim(); ++d)
    if (v.broadcastable[d] && !out.broadcastable[d]) return false;
  return true;
}

class InplacePass final : public Pass {
 public:
  std::string name() const override { return "inplace"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    const auto& applies = graph.applies();
    std::unordered_map<const ir::Variable*, size_t> last_use;
    for (size_t i = 0; i < applies.size(); ++i)
      for (const ir::Variable* in : applies[i]->inputs) last_use[in] = i;
    const std::unordered_set<const ir::Variable*> outputs(graph.outputs().begin(),
                                                          graph.outputs().end());
    bool changed = false;
    for (size_t i = 0; i < applies.size(); ++i) {
      ir::Apply& node = *applies[i];
      if (node.outputs.size() != 1 || node.attrs.count("inplace")) continue;
      const std::vector<int> writable = WritablePositions(node);
      for (int k : writable) {
        const ir::Variable* v = node.inputs[k];
        if (!WritesFreshMemory(v->owner) || outputs.count(v) || last_use.at(v) != i ||
            !SameLayout(v->type, node.outputs[0]->type)) {
          continue;
        }
        // Every read of v by this node must be at a writable position (add(v, x, v) reads its
        // third input after writing).
        bool safe = true;
        for (size_t j = 0; j < node.inputs.size(); ++j) {
          if (node.inputs[j] == v &&
              std::find(writable.begin(), writable.end(), static_cast<int>(j)) == writable.end()) {
            safe = false;
          }
        }
        if (!safe) continue;
        node.attrs["inplace"] = static_cast<int64_t>(k);
        changed = true;
        break;
      }
    }
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeInplacePass() { return std::make_unique<InplacePass>(); }

}  // namespace tensord::passes
