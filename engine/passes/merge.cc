#include "engine/passes/merge.h"

#include <unordered_map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/ir/fingerprint.h"

namespace tensord::passes {
namespace {

class MergePass final : public Pass {
 public:
  std::string name() const override { return "merge"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::unordered_map<const ir::Variable*, ir::Variable*> rep;
    // Constants: same type, shape and bytes.
    std::unordered_map<std::string, ir::Variable*> constants;
    for (const auto& v : graph.variables()) {
      if (v->source != ir::Source::kConstant || !v->constant.is_contiguous()) continue;
      const runtime::Tensor& t = v->constant;
      std::string key =
          absl::StrCat(ir::TypeText(v->type), "|", absl::StrJoin(t.shape(), ","), "|");
      if (t.raw() != nullptr) key.append(static_cast<const char*>(t.raw()), t.num_bytes());
      auto [it, inserted] = constants.emplace(std::move(key), v.get());
      if (!inserted) rep[v.get()] = it->second;
    }
    // Nodes, in topological order, so a node's inputs are already merged when it is keyed.
    std::unordered_map<std::string, ir::Apply*> nodes;
    bool changed = !rep.empty();
    for (const auto& a : graph.applies()) {
      for (ir::Variable*& in : a->inputs) {
        auto it = rep.find(in);
        if (it != rep.end()) in = it->second;
      }
      std::string key = a->op;
      for (const auto& [k, v] : a->attrs)
        absl::StrAppend(&key, ";", k.size(), ":", k, "=", ir::AttrText(v));
      key += ir::BodiesText(*a);
      key += "(";
      for (const ir::Variable* in : a->inputs)
        absl::StrAppend(&key, reinterpret_cast<uintptr_t>(in), ",");
      auto [it, inserted] = nodes.emplace(std::move(key), a.get());
      if (inserted || it->second->outputs.size() != a->outputs.size()) continue;
      for (size_t k = 0; k < a->outputs.size(); ++k) rep[a->outputs[k]] = it->second->outputs[k];
      changed = true;
    }
    for (ir::Variable*& out : graph.outputs()) {
      auto it = rep.find(out);
      if (it != rep.end()) out = it->second;
    }
    // The merged-away nodes are dead; the dead-code pass drops them.
    return changed;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeMergePass() { return std::make_unique<MergePass>(); }

}  // namespace tensord::passes
