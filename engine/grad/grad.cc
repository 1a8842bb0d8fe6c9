#include "engine/grad/grad.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/ops/node_builder.h"
#include "engine/ops/op_def.h"

namespace tensord::grad {
namespace {

using ir::Variable;
using VarSet = std::unordered_set<const Variable*>;

// The op that cuts connectivity itself (its gradient is "disconnected", not zero).
constexpr char kDisconnectedGrad[] = "disconnected_grad";

bool Has(const VarSet& s, const Variable* v) { return s.count(v) != 0; }

// Which variables lie on a path from a wrt to the cost: forward from wrt, backward from the
// cost (and the known gradients), with consider_constant variables and disconnected_grad
// nodes cutting the paths through them.
struct Connectivity {
  VarSet from_wrt;
  VarSet to_cost;

  bool Connected(const Variable* v) const { return Has(from_wrt, v) && Has(to_cost, v); }
  // Whether a gradient must be computed for v: connected and continuous (gradients of integer
  // and boolean values are zero by definition).
  bool Needed(const Variable* v) const { return Connected(v) && IsFloat(v->type.dtype); }
};

// Whether input i of `node` reaches output j: its op's connection pattern, else always.
class Reach {
 public:
  explicit Reach(const ir::Apply& node) {
    if (node.def != nullptr && node.def->connection_pattern)
      pattern_ = node.def->connection_pattern(node);
  }
  bool operator()(size_t i, size_t j) const { return pattern_.empty() || pattern_[i][j]; }

 private:
  std::vector<std::vector<bool>> pattern_;
};

Connectivity FindConnectivity(const std::vector<ir::Apply*>& nodes, const GradRequest& req,
                              const VarSet& constants) {
  Connectivity c;
  c.from_wrt.insert(req.wrt.begin(), req.wrt.end());
  for (const ir::Apply* node : nodes) {
    if (node->op == kDisconnectedGrad) continue;
    const Reach reach(*node);
    for (size_t j = 0; j < node->outputs.size(); ++j) {
      const Variable* out = node->outputs[j];
      if (Has(constants, out)) continue;
      for (size_t i = 0; i < node->inputs.size(); ++i) {
        if (reach(i, j) && Has(c.from_wrt, node->inputs[i])) {
          c.from_wrt.insert(out);
          break;
        }
      }
    }
  }
  if (req.cost != nullptr) c.to_cost.insert(req.cost);
  for (const auto& [var, g] : req.known_grads) c.to_cost.insert(var);
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Apply* node = *it;
    if (node->op == kDisconnectedGrad) continue;
    const Reach reach(*node);
    for (size_t j = 0; j < node->outputs.size(); ++j) {
      const Variable* o = node->outputs[j];
      if (!Has(c.to_cost, o) || Has(constants, o)) continue;
      for (size_t i = 0; i < node->inputs.size(); ++i)
        if (reach(i, j)) c.to_cost.insert(node->inputs[i]);
    }
  }
  return c;
}

// Accumulates the gradient terms each variable receives and sums them on demand.
class Accumulator {
 public:
  explicit Accumulator(ops::NodeBuilder& b) : b_(b) {}

  // Adds a term for v after giving it v's dtype (for float v) and broadcastable pattern.
  void AddTerm(Variable* v, Variable* g) {
    g = b_.Cast(g, v->type.dtype);
    if (g == nullptr) return;
    bool needs_sum = false, needs_fill = false;
    for (int d = 0; d < v->type.ndim(); ++d) {
      needs_sum |= v->type.broadcastable[d] && !g->type.broadcastable[d];
      needs_fill |= !v->type.broadcastable[d] && g->type.broadcastable[d];
    }
    if (needs_sum) g = b_.Apply("sum_to_like", {g, v});
    if (needs_fill) g = b_.Fill(v, g);
    terms_[v].push_back(g);
  }

  // The sum of v's terms (one add node for many), or null when it has none.
  Variable* Total(const Variable* v) {
    auto it = terms_.find(v);
    if (it == terms_.end() || it->second.empty()) return nullptr;
    std::vector<Variable*>& t = it->second;
    if (t.size() > 1) t = {b_.Apply("add", t)};
    return t[0];
  }

 private:
  ops::NodeBuilder& b_;
  std::unordered_map<const Variable*, std::vector<Variable*>> terms_;
};

absl::Status CheckRequest(const GradRequest& req,
                          const std::function<std::string(const Variable*)>& label) {
  if (req.cost == nullptr && req.known_grads.empty())
    return InvalidArgument("grad needs a cost or known_grads");
  if (req.cost != nullptr && req.cost->type.ndim() != 0) {
    return InvalidArgument("the cost must be a scalar (0-d), but ", label(req.cost), " is a ",
                           TypeString(req.cost->type), "; take sum() or mean() first");
  }
  for (const auto& [var, g] : req.known_grads) {
    if (var->type.ndim() != g->type.ndim()) {
      return InvalidArgument("known_grads: the gradient of ", label(var), " (",
                             TypeString(var->type), ") is ", label(g), " of type ",
                             TypeString(g->type), "; their ndim must match");
    }
    if (!IsFloat(g->type.dtype)) {
      return InvalidArgument("known_grads: the gradient ", label(g), " of ", label(var),
                             " must be a float tensor, got ", TypeString(g->type));
    }
  }
  return absl::OkStatus();
}

std::string DisconnectedMessage(const std::string& what) {
  return absl::StrCat("grad was asked to compute the gradient with respect to ", what,
                      ", which is not part of the computational graph of the cost, or is used "
                      "only by a non-differentiable operator");
}

}  // namespace

absl::StatusOr<GradResult> Grad(ir::Graph& graph, const GradRequest& req,
                                const std::function<std::string(const ir::Variable*)>& label) {
  TENSORD_RETURN_IF_ERROR(CheckRequest(req, label));
  // Only the nodes that exist now: the gradient nodes appended below are never revisited.
  std::vector<ir::Apply*> nodes;
  for (const auto& a : graph.applies()) nodes.push_back(a.get());
  const VarSet constants(req.consider_constant.begin(), req.consider_constant.end());
  const Connectivity conn = FindConnectivity(nodes, req, constants);

  ops::NodeBuilder b(graph);
  Accumulator acc(b);
  std::unordered_set<const Variable*> known;
  for (const auto& [var, g] : req.known_grads) {
    known.insert(var);
    if (IsFloat(var->type.dtype)) acc.AddTerm(var, g);
  }
  // The cost's own gradient is 1 (Theano's fill(cost, 1.0)); a discrete cost has none.
  if (req.cost != nullptr && !known.count(req.cost) && IsFloat(req.cost->type.dtype))
    acc.AddTerm(req.cost, b.OnesLike(req.cost));

  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it) {
    const ir::Apply& node = **it;
    if (node.op == kDisconnectedGrad) continue;
    auto needed_in = std::find_if(node.inputs.begin(), node.inputs.end(),
                                  [&](const Variable* in) { return conn.Needed(in); });
    if (needed_in == node.inputs.end()) continue;
    std::vector<Variable*> out_grads;
    bool any = false;
    for (Variable* out : node.outputs) {
      Variable* g = Has(constants, out) || !IsFloat(out->type.dtype) ? nullptr : acc.Total(out);
      any |= g != nullptr;
      out_grads.push_back(g);
    }
    if (!any) continue;
    if (!node.def->grad) {
      return InvalidArgument("the gradient of op '", node.op,
                             "' is not defined, but the gradient with respect to ",
                             label(*needed_in), " needs it");
    }
    std::vector<Variable*> in_grads = node.def->grad(b, node, out_grads);
    if (!b.status().ok()) {
      return absl::Status(b.status().code(),
                          absl::StrCat("gradient of op '", node.op, "': ", b.status().message()));
    }
    if (in_grads.size() != node.inputs.size()) {
      return Internal("the grad rule of '", node.op, "' returned ", in_grads.size(),
                      " gradients for ", node.inputs.size(), " inputs");
    }
    for (size_t i = 0; i < in_grads.size(); ++i) {
      Variable* in = node.inputs[i];
      if (in_grads[i] == nullptr || !conn.Needed(in)) continue;
      if (in_grads[i]->type.ndim() != in->type.ndim()) {
        return Internal("the grad rule of '", node.op, "' returned a ",
                        TypeString(in_grads[i]->type), " gradient for input ", i, " of type ",
                        TypeString(in->type));
      }
      acc.AddTerm(in, in_grads[i]);
    }
  }

  GradResult result;
  for (size_t i = 0; i < req.wrt.size(); ++i) {
    Variable* w = req.wrt[i];
    if (!conn.Connected(w)) {
      result.disconnected.push_back(static_cast<int>(i));
      std::string msg = DisconnectedMessage(absl::StrCat("wrt[", i, "] ", label(w)));
      if (req.disconnected_inputs == OnDisconnected::kRaise) {
        return InvalidArgument(msg,
                               " (disconnected_inputs='raise'; pass 'warn' or 'ignore' to "
                               "allow it)");
      }
      if (req.disconnected_inputs == OnDisconnected::kWarn) result.warnings.push_back(msg);
      result.gradients.push_back(req.return_disconnected == ReturnDisconnected::kZero
                                     ? b.ZerosLike(w, req.float_dtype)
                                     : nullptr);
      continue;
    }
    Variable* g = IsFloat(w->type.dtype) ? acc.Total(w) : nullptr;
    result.gradients.push_back(g != nullptr ? g : b.ZerosLike(w, req.float_dtype));
  }
  TENSORD_RETURN_IF_ERROR(b.status());
  return result;
}

}  // namespace tensord::grad
