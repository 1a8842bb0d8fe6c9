#include "engine/passes/gemm.h"

#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops/node_builder.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

struct Uses {
  std::unordered_map<const ir::Variable*, int> count;
  std::unordered_set<const ir::Variable*> escapes;  // graph outputs (update values included)

  // Used by exactly one node and not needed by anyone else.
  bool Single(const ir::Variable* v) const {
    auto it = count.find(v);
    return it != count.end() && it->second == 1 && !escapes.count(v);
  }
};

// The summed axis of each operand of a matrix product computing in t: dot(x, y) sums x's axis
// 1 with y's axis 0; tensordot of two matrices over one pair of axes is a product of transposes
// (what gradients of dot build: x.T @ g is tensordot(x, g, [0], [0])).
std::optional<std::pair<int64_t, int64_t>> MatrixProductAxes(const ir::Apply* a, DType t) {
  if (a == nullptr || (a->op != "dot" && a->op != "tensordot") || a->inputs[0]->type.ndim() != 2 ||
      a->inputs[1]->type.ndim() != 2 || a->outputs[0]->type.dtype != t) {
    return std::nullopt;
  }
  if (a->op == "dot") return std::pair<int64_t, int64_t>{1, 0};
  auto axes_a = ir::GetIntsAttr(*a, "axes_a"), axes_b = ir::GetIntsAttr(*a, "axes_b");
  if (!axes_a.ok() || !axes_b.ok() || axes_a->size() != 1 || axes_b->size() != 1) {
    return std::nullopt;
  }
  const int64_t i = (*axes_a)[0], j = (*axes_b)[0];
  if (i < -2 || i > 1 || j < -2 || j > 1) return std::nullopt;
  return std::pair<int64_t, int64_t>{(i + 2) % 2, (j + 2) % 2};
}

bool IsMatrixProduct(const ir::Apply* a, DType t) { return MatrixProductAxes(a, t).has_value(); }

// A scale: one element (0-d, or all dims broadcastable, as clients pad constants); not bool
// (neg refuses it).
bool IsScale(const ir::Variable* s) {
  if (s->type.ndim() > 2 || s->type.dtype == DType::kBool) return false;
  for (bool b : s->type.broadcastable)
    if (!b) return false;
  return true;
}

// A term alpha * dot(x, y), possibly negated; `nodes` are the ones it replaces.
struct Product {
  const ir::Apply* dot = nullptr;  // a dot or tensordot of matrices
  ir::Variable* alpha = nullptr;   // null: 1
  bool negated = false;
  std::vector<const ir::Apply*> nodes;
};

std::optional<Product> AsProduct(ir::Variable* v, DType t, const Uses& uses) {
  if (!uses.Single(v) || v->owner == nullptr || v->type.dtype != t) return std::nullopt;
  const ir::Apply* a = v->owner;
  if (IsMatrixProduct(a, t)) return Product{a, nullptr, false, {a}};
  if (a->op == "neg") {  // -(a * dot(x, y)) -> alpha = -a
    std::optional<Product> p = AsProduct(a->inputs[0], t, uses);
    if (p.has_value()) p->negated = !p->negated, p->nodes.push_back(a);
    return p;
  }
  if (a->op == "mul" && a->inputs.size() == 2) {  // a * dot(x, y), either order
    for (int k = 0; k < 2; ++k) {
      ir::Variable* d = a->inputs[k];
      ir::Variable* s = a->inputs[1 - k];
      if (IsScale(s) && uses.Single(d) && IsMatrixProduct(d->owner, t)) {
        return Product{d->owner, s, false, {d->owner, a}};
      }
    }
  }
  return std::nullopt;
}

// The term gemm adds to the product: b * z (b 0-d) or z itself.
struct Addend {
  ir::Variable* z = nullptr;
  ir::Variable* beta = nullptr;  // null: 1
  const ir::Apply* mul = nullptr;
};

bool FitsZ(const ir::Variable* z, DType t) {
  return z->type.ndim() <= 2 && Promote(t, z->type.dtype) == t;
}

Addend AsAddend(ir::Variable* v, DType t, const Uses& uses) {
  const ir::Apply* a = v->owner;
  if (a != nullptr && a->op == "mul" && a->inputs.size() == 2 && uses.Single(v) &&
      v->type.dtype == t) {
    for (int k = 0; k < 2; ++k) {
      ir::Variable* s = a->inputs[1 - k];
      if (IsScale(s) && FitsZ(a->inputs[k], t)) return Addend{a->inputs[k], s, a};
    }
  }
  return Addend{v, nullptr, nullptr};
}

// A scale as gemm's 0-d alpha or beta, negated if asked: a new constant when it is a float
// constant (so no node computes it every run), else a 0-d view of it.
ir::Variable* AsScalar(ops::NodeBuilder& b, ir::Variable* v, bool negate) {
  if (v->source == ir::Source::kConstant && IsFloat(v->type.dtype) && v->constant.buffer()) {
    const double value =
        v->type.dtype == DType::kFloat32 ? *v->constant.data<float>() : *v->constant.data<double>();
    return b.Constant(negate ? -value : value, v->type.dtype);
  }
  if (v->type.ndim() > 0) v = b.Dimshuffle(v, {});
  return negate ? b.Neg(v) : v;
}

class GemmPass final : public Pass {
 public:
  std::string name() const override { return "gemm"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    Uses uses;
    std::vector<ir::Apply*> nodes;
    for (const auto& a : graph.applies()) {
      nodes.push_back(a.get());
      for (const ir::Variable* in : a->inputs) ++uses.count[in];
    }
    uses.escapes.insert(graph.outputs().begin(), graph.outputs().end());
    std::unordered_set<const ir::Apply*> replaced;
    for (ir::Apply* n : nodes) {
      TENSORD_ASSIGN_OR_RETURN(bool done, Rewrite(graph, *n, uses, replaced));
      if (done) replaced.insert(n);
    }
    if (replaced.empty()) return false;
    // Drop exactly the replaced nodes (the sums, their products and scalings).
    TENSORD_RETURN_IF_ERROR(RemoveReplacedNodes(graph, replaced));
    return true;
  }

 private:
  static absl::StatusOr<bool> Rewrite(ir::Graph& graph, const ir::Apply& n, const Uses& uses,
                                      std::unordered_set<const ir::Apply*>& replaced) {
    if ((n.op != "add" && n.op != "sub") || n.outputs[0]->type.ndim() != 2) return false;
    const ir::Type& type = n.outputs[0]->type;
    const DType t = type.dtype;
    if (t != DType::kFloat32 && t != DType::kFloat64) return false;
    struct Term {
      ir::Variable* v;
      bool negated;
    };
    std::vector<Term> terms;
    for (size_t i = 0; i < n.inputs.size(); ++i)
      terms.push_back({n.inputs[i], n.op == "sub" && i == 1});
    std::optional<Product> product;
    size_t pi = 0;
    for (; pi < terms.size() && !product.has_value(); ++pi)
      product = AsProduct(terms[pi].v, t, uses);
    if (!product.has_value()) return false;
    --pi;
    // z: preferably a term of the result's own type (so the output can take its buffer).
    size_t zi = terms.size();
    for (int exact = 1; exact >= 0 && zi == terms.size(); --exact) {
      for (size_t i = 0; i < terms.size() && zi == terms.size(); ++i) {
        if (i != pi && FitsZ(terms[i].v, t) && (!exact || terms[i].v->type == type)) zi = i;
      }
    }
    if (zi == terms.size()) return false;
    const Addend z = AsAddend(terms[zi].v, t, uses);

    ops::NodeBuilder b(graph);
    const bool neg_alpha = product->negated != terms[pi].negated;
    ir::Variable* alpha = product->alpha == nullptr ? b.Constant(neg_alpha ? -1 : 1, t)
                                                    : AsScalar(b, product->alpha, neg_alpha);
    const bool neg_beta = terms[zi].negated;
    ir::Variable* beta =
        z.beta == nullptr ? b.Constant(neg_beta ? -1 : 1, t) : AsScalar(b, z.beta, neg_beta);
    // x summed over axis 1 and y over axis 0: transposed views otherwise (BLAS takes them as
    // they are, with its trans flags).
    const auto [ax, ay] = *MatrixProductAxes(product->dot, t);
    ir::Variable* x = product->dot->inputs[0];
    ir::Variable* y = product->dot->inputs[1];
    if (ax == 0) x = b.Dimshuffle(x, {1, 0});
    if (ay == 1) y = b.Dimshuffle(y, {1, 0});
    ir::Variable* out = b.Apply("gemm", {z.z, alpha, x, y, beta});
    std::vector<ir::Variable*> rest = {out};
    for (size_t i = 0; i < terms.size(); ++i)
      if (i != pi && i != zi) rest.push_back(terms[i].v);  // only adds have more than 2 terms
    if (rest.size() > 1) out = b.Apply("add", rest);
    TENSORD_RETURN_IF_ERROR(b.status());
    if (!(out->type == type)) {
      return Internal("gemm: the rewrite of ", n.op, " has type ", ir::TypeString(out->type),
                      " instead of ", ir::TypeString(type));
    }
    graph.ReplaceAllUses(n.outputs[0], out);
    replaced.insert(product->nodes.begin(), product->nodes.end());
    if (z.mul != nullptr) replaced.insert(z.mul);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeGemmPass() { return std::make_unique<GemmPass>(); }

}  // namespace tensord::passes
