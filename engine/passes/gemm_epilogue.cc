#include "engine/passes/gemm_epilogue.h"

#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "engine/ops/defs/composite.h"
#include "engine/ops/node_builder.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

namespace composite = ops::composite;

// The composite's program with its input `product` moved to register 0 and the inputs before
// it one register up (instructions' registers, past the inputs, stay where they were).
std::vector<composite::Instr> ProductFirst(const composite::Program& p, int product) {
  std::vector<composite::Instr> code = p.code;
  for (composite::Instr& ins : code) {
    if (ins.op == composite::kConst) continue;
    for (int32_t& a : ins.args) {
      if (a < 0 || a >= p.num_inputs) continue;
      a = a == product ? 0 : a < product ? a + 1 : a;
    }
  }
  return code;
}

// The other inputs keep the product's m x n shape: 2-d at most and, along each dim the product
// may have, not longer where its type is broadcastable.
bool KeepsTheProductsShape(const ir::Apply& n, size_t product, const ir::Type& product_type) {
  for (size_t i = 0; i < n.inputs.size(); ++i) {
    if (i == product) continue;
    const ir::Type& t = n.inputs[i]->type;
    if (t.ndim() > 2) return false;
    for (int d = 0; d < t.ndim(); ++d)
      if (!t.broadcastable[d] && product_type.broadcastable[2 - t.ndim() + d]) return false;
  }
  return true;
}

// A matrix product's operands as dot_composite takes them (x m x k, y k x n), each maybe read
// transposed: dot(x, y) of matrices, or tensordot(x, y) of matrices contracting one axis of each
// (the gradient of dot: g W^T is tensordot(g, W, axes=[1], [1])).
struct Product {
  const ir::Apply* node = nullptr;
  ir::Variable* x = nullptr;
  ir::Variable* y = nullptr;
  bool transpose_x = false, transpose_y = false;
};

std::optional<Product> MatrixProduct(const ir::Variable* v) {
  const ir::Apply* a = v->owner;
  if (a == nullptr || (a->op != "dot" && a->op != "tensordot") || a->inputs.size() != 2 ||
      a->inputs[0]->type.ndim() != 2 || a->inputs[1]->type.ndim() != 2) {
    return std::nullopt;
  }
  Product p{a, a->inputs[0], a->inputs[1]};
  if (a->op == "tensordot") {
    auto axes_a = ir::GetIntsAttr(*a, "axes_a");
    auto axes_b = ir::GetIntsAttr(*a, "axes_b");
    if (!axes_a.ok() || !axes_b.ok() || axes_a->size() != 1 || axes_b->size() != 1) {
      return std::nullopt;
    }
    p.transpose_x = (*axes_a)[0] == 0 || (*axes_a)[0] == -2;  // x's rows are contracted
    p.transpose_y = (*axes_b)[0] == 1 || (*axes_b)[0] == -1;  // y's columns are contracted
  }
  return p;
}

class GemmEpiloguePass final : public Pass {
 public:
  std::string name() const override { return "gemm_epilogue"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::unordered_set<const ir::Apply*> replaced;
    const std::unordered_map<const ir::Variable*, int> uses = CountValueUses(graph, replaced);
    std::vector<ir::Apply*> nodes;
    for (const auto& a : graph.applies()) nodes.push_back(a.get());
    for (ir::Apply* n : nodes) {
      if (n->op != "composite" || n->attrs.count("reduce")) continue;
      TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(*n));
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        ir::Variable* v = n->inputs[i];
        const std::optional<Product> product = MatrixProduct(v);
        auto use = uses.find(v);
        if (!product.has_value() || replaced.count(product->node) || use == uses.end() ||
            use->second != 1 || v->type.dtype != p.dtype || !p.input_read[i] ||
            !KeepsTheProductsShape(*n, i, v->type)) {
          continue;
        }
        bool cycle = false;
        for (size_t j = 0; j < n->inputs.size() && !cycle; ++j)
          cycle = j != i && DependsOn(n->inputs[j], v);
        if (cycle) continue;
        composite::Program moved = p;
        moved.code = ProductFirst(p, static_cast<int>(i));
        ir::Attrs attrs = ops::NodeBuilder::DeclaredAttrs(*n);
        attrs["program"] = composite::EncodeProgram(moved.code);
        attrs["expr"] = composite::RenderExpr(moved);
        ops::NodeBuilder b(graph);
        std::vector<ir::Variable*> inputs = {
            product->transpose_x ? b.Dimshuffle(product->x, {1, 0}) : product->x,
            product->transpose_y ? b.Dimshuffle(product->y, {1, 0}) : product->y};
        for (size_t j = 0; j < n->inputs.size(); ++j)
          if (j != i) inputs.push_back(n->inputs[j]);
        ir::Variable* fused = b.Apply("dot_composite", inputs, attrs);
        TENSORD_RETURN_IF_ERROR(b.status());
        if (!(fused->type == n->outputs[0]->type)) {  // not expected (checked): drop the try
          replaced.insert(fused->owner);
          for (size_t k = 0; k < 2; ++k)
            if (inputs[k]->owner != nullptr && inputs[k] != product->node->inputs[k])
              replaced.insert(inputs[k]->owner);
          continue;
        }
        graph.ReplaceAllUses(n->outputs[0], fused);
        graph.ReplaceAllUses(v, fused);  // readers of the product's shape only
        replaced.insert(n);
        replaced.insert(product->node);
        break;
      }
    }
    if (replaced.empty()) return false;
    TENSORD_RETURN_IF_ERROR(RemoveReplacedNodes(graph, replaced));
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeGemmEpiloguePass() { return std::make_unique<GemmEpiloguePass>(); }

}  // namespace tensord::passes
