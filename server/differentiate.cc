#include "server/differentiate.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "engine/frontend/proto_convert.h"
#include "engine/grad/grad.h"
#include "server/functions.h"

namespace tensord::server {
namespace {

using ir::Variable;

absl::StatusOr<grad::OnDisconnected> ParseOnDisconnected(const std::string& s) {
  if (s.empty() || s == "raise") return grad::OnDisconnected::kRaise;
  if (s == "warn") return grad::OnDisconnected::kWarn;
  if (s == "ignore") return grad::OnDisconnected::kIgnore;
  return InvalidArgument("disconnected_inputs must be 'raise', 'warn' or 'ignore', got '", s, "'");
}

absl::StatusOr<grad::ReturnDisconnected> ParseReturnDisconnected(const std::string& s) {
  if (s.empty() || s == "zero") return grad::ReturnDisconnected::kZero;
  if (s == "None") return grad::ReturnDisconnected::kNone;
  if (s == "Disconnected") return grad::ReturnDisconnected::kDisconnected;
  return InvalidArgument("return_disconnected must be 'zero', 'None' or 'Disconnected', got '", s,
                         "'");
}

// Wire ids of the request's variables, and fresh ones for what the gradient adds.
class WireIds {
 public:
  explicit WireIds(const ir::DecodedGraph& decoded) {
    for (const auto& [wire, var] : decoded.by_wire_id) {
      ids_[var] = wire;
      first_new_ = std::max(first_new_, wire + 1);
    }
    next_ = first_new_;
  }
  bool InRequest(const Variable* v) const {
    auto it = ids_.find(v);
    return it != ids_.end() && it->second < first_new_;
  }
  int64_t Of(const Variable* v) {
    auto [it, inserted] = ids_.emplace(v, next_);
    if (inserted) ++next_;
    return it->second;
  }
  std::string Label(const Variable* v) const {
    auto it = ids_.find(v);
    std::string id = it == ids_.end() ? "(new)" : absl::StrCat(it->second);
    return v->name.empty() ? absl::StrCat("variable ", id)
                           : absl::StrCat("variable ", id, " ('", v->name, "')");
  }

 private:
  std::unordered_map<const Variable*, int64_t> ids_;
  int64_t first_new_ = 1;
  int64_t next_ = 1;
};

absl::StatusOr<std::vector<Variable*>> LookupAll(
    const ir::DecodedGraph& g, const google::protobuf::RepeatedField<int64_t>& ids,
    const char* what) {
  std::vector<Variable*> out;
  for (int64_t id : ids) {
    TENSORD_ASSIGN_OR_RETURN(Variable * v, g.Lookup(id, what));
    out.push_back(v);
  }
  return out;
}

// Encodes the applies and variables that the gradients need and the request did not have.
void EncodeAdded(const ir::Graph& graph, const std::vector<Variable*>& roots, WireIds& ids,
                 v1::Graph* out) {
  std::unordered_set<const ir::Apply*> needed;
  std::vector<const Variable*> stack(roots.begin(), roots.end());
  std::unordered_set<const Variable*> seen;
  while (!stack.empty()) {
    const Variable* v = stack.back();
    stack.pop_back();
    if (v == nullptr || ids.InRequest(v) || !seen.insert(v).second) continue;
    if (v->owner != nullptr && needed.insert(v->owner).second)
      for (const Variable* in : v->owner->inputs) stack.push_back(in);
  }
  auto declare = [&](const Variable* v) {
    v1::Variable* pv = out->add_variables();
    pv->set_id(ids.Of(v));
    ir::TypeToProto(v->type, pv->mutable_type());
    if (v->source == ir::Source::kConstant) {
      ir::TensorToProto(v->constant, pv->mutable_constant());
    } else {
      pv->mutable_output();
    }
  };
  // Leaves first (the rules' constants), then the applies in graph order, which is
  // topological because every gradient node was appended after its inputs.
  for (const auto& v : graph.variables())
    if (v->owner == nullptr && seen.count(v.get())) declare(v.get());
  for (const auto& a : graph.applies()) {
    if (!needed.count(a.get())) continue;
    for (const Variable* o : a->outputs) declare(o);
    v1::Apply* pa = out->add_applies();
    pa->set_op(a->op);
    for (const auto& [key, value] : a->attrs) ir::AttrToProto(value, &(*pa->mutable_attrs())[key]);
    for (const Variable* in : a->inputs) pa->add_inputs(ids.Of(in));
    for (const Variable* o : a->outputs) pa->add_outputs(ids.Of(o));
    // Bodies are self-contained graphs (their own ids): scan_grad's step gradient.
    for (const auto& body : a->bodies) ir::GraphToProto(*body, pa->add_bodies());
  }
}

}  // namespace

absl::Status Differentiate(Session& session, const v1::DifferentiateRequest& req,
                           DType default_float, v1::DifferentiateResponse* out) {
  TENSORD_ASSIGN_OR_RETURN(ir::DecodedGraph decoded, ir::GraphFromProto(req.graph()));
  // Checked as Compile checks them, so a gradient is never built over a graph that the
  // function made from it would refuse.
  TENSORD_RETURN_IF_ERROR(CheckSharedReferences(decoded.graph, SharedIn(session)));
  grad::GradRequest g;
  if (req.has_cost()) {
    TENSORD_ASSIGN_OR_RETURN(g.cost, decoded.Lookup(req.cost(), "cost"));
  }
  TENSORD_ASSIGN_OR_RETURN(g.wrt, LookupAll(decoded, req.wrt(), "wrt"));
  TENSORD_ASSIGN_OR_RETURN(g.consider_constant,
                           LookupAll(decoded, req.consider_constant(), "consider_constant"));
  for (const v1::KnownGrad& k : req.known_grads()) {
    TENSORD_ASSIGN_OR_RETURN(Variable * var, decoded.Lookup(k.variable(), "known_grads"));
    TENSORD_ASSIGN_OR_RETURN(Variable * gv, decoded.Lookup(k.gradient(), "known_grads"));
    g.known_grads.emplace_back(var, gv);
  }
  TENSORD_ASSIGN_OR_RETURN(g.disconnected_inputs, ParseOnDisconnected(req.disconnected_inputs()));
  TENSORD_ASSIGN_OR_RETURN(g.return_disconnected,
                           ParseReturnDisconnected(req.return_disconnected()));
  g.float_dtype = default_float;
  if (req.float_dtype() != v1::DT_INVALID) {
    TENSORD_ASSIGN_OR_RETURN(g.float_dtype, ir::DTypeFromProto(req.float_dtype(), "float_dtype"));
    if (g.float_dtype != DType::kFloat32 && g.float_dtype != DType::kFloat64) {
      return InvalidArgument("float_dtype must be float32 or float64, got ",
                             DTypeName(g.float_dtype));
    }
  }
  WireIds ids(decoded);
  TENSORD_ASSIGN_OR_RETURN(
      grad::GradResult result,
      grad::Grad(decoded.graph, g, [&](const Variable* v) { return ids.Label(v); }));
  EncodeAdded(decoded.graph, result.gradients, ids, out->mutable_graph());
  for (Variable* v : result.gradients) out->add_gradients(v == nullptr ? -1 : ids.Of(v));
  for (int i : result.disconnected) out->add_disconnected(i);
  for (std::string& w : result.warnings) out->add_warnings(std::move(w));
  return absl::OkStatus();
}

}  // namespace tensord::server
