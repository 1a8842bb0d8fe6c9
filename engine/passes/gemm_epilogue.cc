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
using composite::Instr;
using composite::Program;

// The elementwise program a node computes: a composite's (not a reduction), or a lone fusable
// op's, one input per operand, computing in its float output dtype. The program reads its
// inputs in that dtype, as the op's own kernel does, except a switch's condition, which it
// reads as bool: switch is left alone (a condition cast to the dtype could round to 0).
std::optional<Program> ProgramOf(const ir::Apply& n) {
  if (n.op == "composite") {
    if (n.attrs.count("reduce")) return std::nullopt;
    absl::StatusOr<Program> p = composite::ParseProgram(n);
    return p.ok() ? std::optional<Program>(*std::move(p)) : std::nullopt;
  }
  const DType dtype = n.outputs.size() == 1 ? n.outputs[0]->type.dtype : DType::kInvalid;
  if (n.def == nullptr || n.def->FusionOpcode() < 0 || n.def->scalar->predicate ||
      n.def->scalar->bool_condition || (dtype != DType::kFloat32 && dtype != DType::kFloat64) ||
      static_cast<int>(n.inputs.size()) != n.def->scalar->arity) {
    return std::nullopt;
  }
  Program p;
  p.dtype = dtype;
  p.num_inputs = static_cast<int>(n.inputs.size());
  Instr ins;
  ins.op = n.def->FusionOpcode();
  for (int k = 0; k < p.num_inputs; ++k) ins.args[k] = k;
  p.code = {ins};
  p.input_read.assign(p.num_inputs, true);
  // A fill model is read for its shape only, as ParseProgram says.
  if (n.op == "fill") p.input_read[0] = false;
  return p;
}

// A matrix product and what makes the consumer's input of it: the product's operands as
// dot_composite takes them (x m x k, y k x n, each maybe read transposed), and a prelude, the
// instructions that turn the product (its register 0) and `inputs` (registers 1..) into the
// value, for gemm: alpha * dot(x, y) + beta * z. Instruction j of the prelude defines register
// 1 + inputs.size() + j, as in a program of its own.
struct Product {
  const ir::Apply* node = nullptr;
  ir::Variable* x = nullptr;
  ir::Variable* y = nullptr;
  bool transpose_x = false, transpose_y = false;
  std::vector<ir::Variable*> inputs;
  std::vector<Instr> prelude;
};

// dot(x, y) or tensordot(x, y) contracting one axis of each (the gradient of dot: g W^T is
// tensordot(g, W, [1], [1])), of matrices; gemm(z, alpha, x, y, beta). Its type must be the
// product's (a gemm's z may not enlarge it).
std::optional<Product> MatrixProduct(const ir::Variable* v) {
  const ir::Apply* a = v->owner;
  if (a == nullptr) return std::nullopt;
  Product p;
  p.node = a;
  if (a->op == "dot" || a->op == "tensordot") {
    if (a->inputs.size() != 2) return std::nullopt;
    p.x = a->inputs[0], p.y = a->inputs[1];
  } else if (a->op == "gemm") {
    p.x = a->inputs[2], p.y = a->inputs[3];
    const ir::Type& z = a->inputs[0]->type;
    if (z.ndim() > 2) return std::nullopt;
    // alpha * product + beta * z, without the multiplications by a constant 1 (the gemm pass
    // makes dot(x, W) + b gemm(b, 1, x, W, 1)).
    auto op = [](const char* name, int32_t a0, int32_t a1) {
      Instr ins;
      ins.op = composite::Opcode(name);
      ins.args[0] = a0, ins.args[1] = a1;
      return ins;
    };
    ir::Variable* alpha = a->inputs[1];
    ir::Variable* beta = a->inputs[4];
    const bool scale_product = !IsUnitConstant(alpha, 1), scale_z = !IsUnitConstant(beta, 1);
    if (scale_product) p.inputs.push_back(alpha);
    if (scale_z) p.inputs.push_back(beta);
    p.inputs.push_back(a->inputs[0]);  // z
    const int32_t z_reg = static_cast<int32_t>(p.inputs.size());
    int32_t next = z_reg + 1;  // the register the next prelude instruction defines
    int32_t product = 0, scaled_z = z_reg;
    if (scale_product) p.prelude.push_back(op("mul", 1, 0)), product = next++;
    if (scale_z) p.prelude.push_back(op("mul", z_reg - 1, z_reg)), scaled_z = next++;
    p.prelude.push_back(op("add", product, scaled_z));
  } else {
    return std::nullopt;
  }
  // Operands of the product's dtype (dot and gemm cast mixed ones; dot_composite does not).
  if (p.x->type.ndim() != 2 || p.y->type.ndim() != 2 || p.x->type.dtype != v->type.dtype ||
      p.y->type.dtype != v->type.dtype) {
    return std::nullopt;
  }
  if (a->op == "tensordot") {
    auto axes_a = ir::GetIntsAttr(*a, "axes_a");
    auto axes_b = ir::GetIntsAttr(*a, "axes_b");
    if (!axes_a.ok() || !axes_b.ok() || axes_a->size() != 1 || axes_b->size() != 1) {
      return std::nullopt;
    }
    p.transpose_x = (*axes_a)[0] == 0 || (*axes_a)[0] == -2;  // x's rows are contracted
    p.transpose_y = (*axes_b)[0] == 1 || (*axes_b)[0] == -1;  // y's columns are contracted
  }
  const std::vector<bool> product = {p.x->type.broadcastable[p.transpose_x ? 1 : 0],
                                     p.y->type.broadcastable[p.transpose_y ? 0 : 1]};
  if (v->type.broadcastable != product) return std::nullopt;
  return p;
}

// The consumer's program with its input `i` computed by the product's prelude: the new inputs
// are the product, the prelude's inputs, then the consumer's other inputs in order.
Program Compose(const Program& c, int i, const Product& product) {
  const int k = 1 + static_cast<int>(product.inputs.size());
  const int inputs = k + c.num_inputs - 1;
  const int prelude = static_cast<int>(product.prelude.size());
  Program p = c;
  p.num_inputs = inputs;
  p.code.clear();
  for (Instr ins : product.prelude) {
    for (int32_t& a : ins.args)
      if (a >= k) a = inputs + (a - k);  // an earlier prelude instruction
    p.code.push_back(ins);
  }
  const int32_t value = prelude == 0 ? 0 : inputs + prelude - 1;
  for (Instr ins : c.code) {
    if (ins.op != composite::kConst) {
      for (int32_t& a : ins.args) {
        if (a < 0) continue;
        if (a == i) {
          a = value;
        } else if (a < c.num_inputs) {
          a = k + (a < i ? a : a - 1);
        } else {
          a = inputs + prelude + (a - c.num_inputs);
        }
      }
    }
    p.code.push_back(ins);
  }
  return p;
}

// The consumer's other inputs (and a gemm's z) keep the product's m x n shape.
bool KeepsTheProductsShape(const ir::Apply& n, size_t product, const Product& p,
                           const ir::Type& product_type) {
  for (size_t i = 0; i < n.inputs.size(); ++i)
    if (i != product && !composite::KeepsProductShape(product_type, n.inputs[i]->type))
      return false;
  for (const ir::Variable* in : p.inputs)
    if (!composite::KeepsProductShape(product_type, in->type)) return false;
  return true;
}

// Anything that still fails to build (not expected: the checks above are the type rule's) stops
// the compile with the error, as in the other passes.
class GemmEpiloguePass final : public Pass {
 public:
  std::string name() const override { return "gemm_epilogue"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::unordered_set<const ir::Apply*> replaced;
    const std::unordered_map<const ir::Variable*, int> uses = CountValueUses(graph, replaced);
    std::vector<ir::Apply*> nodes;
    for (const auto& a : graph.applies()) nodes.push_back(a.get());
    for (ir::Apply* n : nodes) {
      const std::optional<Program> p = ProgramOf(*n);
      if (!p.has_value()) continue;
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        ir::Variable* v = n->inputs[i];
        std::optional<Product> product = MatrixProduct(v);
        auto use = uses.find(v);
        if (!product.has_value() || replaced.count(product->node) || use == uses.end() ||
            use->second != 1 || v->type.dtype != p->dtype || !p->input_read[i] ||
            !KeepsTheProductsShape(*n, i, *product, v->type)) {
          continue;
        }
        bool cycle = false;
        for (size_t j = 0; j < n->inputs.size() && !cycle; ++j)
          cycle = j != i && DependsOn(n->inputs[j], v);
        if (cycle) continue;
        const Program fused_program = Compose(*p, static_cast<int>(i), *product);
        if (fused_program.code.size() > static_cast<size_t>(composite::kMaxInstructions) ||
            n->inputs.size() + product->inputs.size() + 1 >
                static_cast<size_t>(composite::kMaxInputs)) {
          continue;  // a composite at its limits: the prelude would pass them
        }
        ir::Attrs attrs;
        attrs["dtype"] = p->dtype;
        attrs["program"] = composite::EncodeProgram(fused_program.code);
        if (!fused_program.constants.empty()) attrs["constants"] = fused_program.constants;
        attrs["expr"] = composite::RenderExpr(fused_program);
        ops::NodeBuilder b(graph);
        std::vector<ir::Variable*> inputs = {
            product->transpose_x ? b.Dimshuffle(product->x, {1, 0}) : product->x,
            product->transpose_y ? b.Dimshuffle(product->y, {1, 0}) : product->y};
        for (ir::Variable* in : product->inputs) inputs.push_back(in);
        for (size_t j = 0; j < n->inputs.size(); ++j)
          if (j != i) inputs.push_back(n->inputs[j]);
        ir::Variable* fused = b.Apply("dot_composite", inputs, attrs);
        TENSORD_RETURN_IF_ERROR(b.status());
        if (!(fused->type == n->outputs[0]->type)) {  // not expected (checked): drop the try
          replaced.insert(fused->owner);
          for (size_t k = 0; k < 2; ++k)
            if (inputs[k] != (k == 0 ? product->x : product->y)) replaced.insert(inputs[k]->owner);
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
