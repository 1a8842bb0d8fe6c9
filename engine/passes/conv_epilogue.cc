#include "engine/passes/conv_epilogue.h"

#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops/node_builder.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

// b broadcasts like a per-channel bias of a convolution of type `conv`.
bool IsChannelBias(const ir::Variable* b, const ir::Type& conv) {
  if (b->type.ndim() != conv.ndim() || b->type.dtype != conv.dtype) return false;
  for (int d = 0; d < conv.ndim(); ++d)
    if (d != 1 && !b->type.broadcastable[d]) return false;
  return true;
}

class ConvEpiloguePass final : public Pass {
 public:
  std::string name() const override { return "conv_epilogue"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::unordered_set<const ir::Apply*> replaced;
    // Biases first, then relus over the fused nodes the first walk made.
    for (bool relu : {false, true}) {
      const std::unordered_map<const ir::Variable*, int> uses = CountValueUses(graph, replaced);
      auto single = [&](const ir::Variable* v) {
        auto it = uses.find(v);
        return it != uses.end() && it->second == 1;
      };
      std::vector<ir::Apply*> nodes;
      for (const auto& a : graph.applies()) nodes.push_back(a.get());
      for (ir::Apply* n : nodes) {
        TENSORD_ASSIGN_OR_RETURN(bool done, relu ? FuseRelu(graph, *n, single, replaced)
                                                 : FuseBias(graph, *n, single, replaced));
        if (done) replaced.insert(n);
      }
    }
    if (replaced.empty()) return false;
    TENSORD_RETURN_IF_ERROR(RemoveReplacedNodes(graph, replaced));
    return true;
  }

 private:
  template <typename Single>
  static absl::StatusOr<bool> FuseBias(ir::Graph& graph, const ir::Apply& n, Single&& single,
                                       std::unordered_set<const ir::Apply*>& replaced) {
    if (n.op != "add") return false;
    const ir::Type& type = n.outputs[0]->type;
    for (size_t ci = 0; ci < n.inputs.size(); ++ci) {
      const ir::Apply* conv = ProducedBy(n.inputs[ci], "conv");
      if (conv == nullptr || !single(n.inputs[ci]) || !(n.inputs[ci]->type == type)) continue;
      for (size_t bi = 0; bi < n.inputs.size(); ++bi) {
        // A bias computed from the convolution (through a reader of its shape, which would
        // move to the fused node) would make a cycle.
        if (bi == ci || !IsChannelBias(n.inputs[bi], type) ||
            DependsOn(n.inputs[bi], n.inputs[ci])) {
          continue;
        }
        ops::NodeBuilder b(graph);
        ir::Attrs attrs = ops::NodeBuilder::DeclaredAttrs(*conv);
        attrs["activation"] = std::string("identity");
        ir::Variable* fused =
            b.Apply("conv_fused", {conv->inputs[0], conv->inputs[1], n.inputs[bi]}, attrs);
        ir::Variable* out = fused;
        std::vector<ir::Variable*> rest = {out};
        for (size_t i = 0; i < n.inputs.size(); ++i)
          if (i != ci && i != bi) rest.push_back(n.inputs[i]);
        if (rest.size() > 1) out = b.Apply("add", rest);
        TENSORD_RETURN_IF_ERROR(b.status());
        if (!(out->type == type)) {  // not expected (the types were checked): drop the try
          replaced.insert(fused->owner);
          if (out != fused) replaced.insert(out->owner);
          continue;
        }
        graph.ReplaceAllUses(n.outputs[0], out);
        graph.ReplaceAllUses(conv->outputs[0], fused);  // readers of its shape only
        replaced.insert(conv);
        return true;
      }
    }
    return false;
  }

  template <typename Single>
  static absl::StatusOr<bool> FuseRelu(ir::Graph& graph, const ir::Apply& n, Single&& single,
                                       std::unordered_set<const ir::Apply*>& replaced) {
    // maximum(x, +0) exactly: maximum(+0, x) differs from it on x = -0 (it gives +0), and
    // maximum(x, -0) on negative x (it gives -0).
    if (n.op != "maximum" || n.inputs.size() != 2) return false;
    const ir::Type& type = n.outputs[0]->type;
    const ir::Apply* fused = ProducedBy(n.inputs[0], "conv_fused");
    const std::optional<double> zero = UniformUnitConstant(n.inputs[1]);
    if (fused == nullptr || !single(n.inputs[0]) || !(n.inputs[0]->type == type) ||
        !zero.has_value() || *zero != 0.0 || std::signbit(*zero)) {
      return false;
    }
    auto activation = ir::GetAttr<std::string>(*fused, "activation");
    if (!activation.ok() || *activation != "identity") return false;
    ops::NodeBuilder b(graph);
    ir::Attrs attrs = ops::NodeBuilder::DeclaredAttrs(*fused);
    attrs["activation"] = std::string("relu");
    ir::Variable* out = b.Apply("conv_fused", fused->inputs, attrs);
    TENSORD_RETURN_IF_ERROR(b.status());
    if (!(out->type == type)) {  // not expected (the types were checked): drop the try
      replaced.insert(out->owner);
      return false;
    }
    graph.ReplaceAllUses(n.outputs[0], out);
    graph.ReplaceAllUses(fused->outputs[0], out);  // readers of its shape only
    replaced.insert(fused);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeConvEpiloguePass() { return std::make_unique<ConvEpiloguePass>(); }

}  // namespace tensord::passes
