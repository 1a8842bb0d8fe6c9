#include "engine/passes/fusion.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/composite.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/op_def.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

using ops::composite::Instr;

// The dtype a node computes in when it can join a composite, else kInvalid.
DType ComputeDType(const ir::Apply& a) {
  if (a.def == nullptr || a.def->FusionOpcode() < 0 || a.outputs.size() != 1) {
    return DType::kInvalid;
  }
  const ops::ScalarForm& form = *a.def->scalar;
  if (a.def->FoldsLeft() ? a.inputs.size() < 2 : static_cast<int>(a.inputs.size()) != form.arity) {
    return DType::kInvalid;
  }
  DType t = a.outputs[0]->type.dtype;
  if (form.predicate) {  // compares in the inputs' promotion; gives bool
    t = a.inputs[0]->type.dtype;
    for (const ir::Variable* in : a.inputs) t = Promote(t, in->type.dtype);
  }
  if (t != DType::kFloat32 && t != DType::kFloat64) return DType::kInvalid;
  if (form.bool_condition) {
    // The condition is cast to bool; cast to a narrower float first, a tiny nonzero could
    // become 0. Bools, ints and floats no wider than t keep their truth.
    const DType c = a.inputs[0]->type.dtype;
    if (IsFloat(c) && DTypeSize(c) > DTypeSize(t)) return DType::kInvalid;
  }
  return t;
}

// The value of a one-element constant whose every dim is broadcastable (0-d, or (1, 1) as
// clients pad constants), exact as a double (so its cast to the program's dtype is the cast the
// unfused kernel would make).
std::optional<double> UnitConstant(const ir::Variable* v) {
  if (v->source != ir::Source::kConstant || !v->constant.buffer() ||
      v->constant.num_elements() != 1) {
    return std::nullopt;
  }
  for (bool b : v->type.broadcastable)
    if (!b) return std::nullopt;
  double value = 0;
  absl::Status st = DispatchAll(v->constant.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    value = static_cast<double>(*v->constant.data<T>());
    return absl::OkStatus();
  });
  if (!st.ok()) return std::nullopt;
  if (IsInteger(v->constant.dtype()) && std::fabs(value) > 9007199254740992.0) return std::nullopt;
  return value;
}

// Whether `user` is a reduction a composite can do itself (reduce attribute): sum, mean, max or
// min over every axis, giving `dtype`.
bool IsFullReductionIn(const ir::Apply* user, DType dtype) {
  if (user == nullptr ||
      (user->op != "sum" && user->op != "mean" && user->op != "max" && user->op != "min") ||
      user->outputs.size() != 1 || user->outputs[0]->type.dtype != dtype ||
      user->outputs[0]->type.ndim() != 0) {
    return false;
  }
  absl::StatusOr<std::vector<int64_t>> axes = ops::ReducedAxes(*user);
  return axes.ok() && static_cast<int>(axes->size()) == user->inputs[0]->type.ndim();
}

// Replaces the group (topologically sorted, root last), and `reduction` of its root when not
// null, by one composite node. False when the group has no input but literals (constant
// folding's job, not fusion's).
absl::StatusOr<bool> Fuse(ir::Graph& graph, const std::vector<const ir::Apply*>& group, DType dtype,
                          const ir::Apply* reduction) {
  std::unordered_set<const ir::Apply*> members(group.begin(), group.end());
  std::vector<ir::Variable*> external;
  std::unordered_set<const ir::Variable*> seen;
  for (const ir::Apply* a : group) {
    for (ir::Variable* in : a->inputs) {
      if ((in->owner != nullptr && members.count(in->owner)) || !seen.insert(in).second) continue;
      external.push_back(in);
    }
  }
  // A unit constant becomes a literal when the other inputs have at least its rank: then
  // dropping it changes neither the broadcast shape nor the output type.
  int rank = 0;
  for (const ir::Variable* in : external)
    if (!UnitConstant(in).has_value()) rank = std::max(rank, in->type.ndim());
  auto literal = [&](const ir::Variable* v) {
    return v->type.ndim() <= rank ? UnitConstant(v) : std::nullopt;
  };
  std::vector<ir::Variable*> inputs;
  std::unordered_map<const ir::Variable*, int32_t> reg;
  for (ir::Variable* in : external) {
    if (literal(in).has_value()) continue;
    reg[in] = static_cast<int32_t>(inputs.size());
    inputs.push_back(in);
  }
  if (inputs.empty()) return false;
  ops::composite::Program program;
  program.dtype = dtype;
  program.num_inputs = static_cast<int>(inputs.size());
  auto last = [&] { return static_cast<int32_t>(program.num_inputs + program.code.size() - 1); };
  auto operand = [&](const ir::Variable* v) {
    if (auto it = reg.find(v); it != reg.end()) return it->second;
    program.constants.push_back(*literal(v));
    Instr c{ops::composite::kConst, {static_cast<int32_t>(program.constants.size() - 1), -1, -1}};
    program.code.push_back(c);
    return reg[v] = last();
  };
  for (const ir::Apply* a : group) {
    const int op = a->def->FusionOpcode();
    if (a->inputs.size() > 2 && a->def->FoldsLeft()) {
      // ((in0 op in1) op in2) ...: the unfused kernel's order, so sums round the same way.
      int32_t acc = operand(a->inputs[0]);
      for (size_t k = 1; k < a->inputs.size(); ++k) {
        const int32_t rhs = operand(a->inputs[k]);
        program.code.push_back(Instr{op, {acc, rhs, -1}});
        acc = last();
      }
    } else {
      Instr ins{op, {-1, -1, -1}};
      for (size_t k = 0; k < a->inputs.size(); ++k) ins.args[k] = operand(a->inputs[k]);
      program.code.push_back(ins);
    }
    reg[a->outputs[0]] = last();
  }
  if (static_cast<int>(program.code.size()) > ops::composite::kMaxInstructions ||
      program.num_inputs > ops::composite::kMaxInputs) {
    return false;  // beyond one composite's limits: left unfused
  }
  ir::Attrs attrs{{"dtype", dtype},
                  {"program", ops::composite::EncodeProgram(program.code)},
                  {"expr", ops::composite::RenderExpr(program)}};
  if (!program.constants.empty()) attrs["constants"] = program.constants;
  if (reduction != nullptr) attrs["reduce"] = reduction->op;
  ops::NodeBuilder b(graph);
  ir::Variable* out = b.Apply("composite", inputs, std::move(attrs));
  TENSORD_RETURN_IF_ERROR(b.status());
  ir::Variable* root = (reduction != nullptr ? reduction : group.back())->outputs[0];
  if (!(out->type == root->type)) {
    return Internal("fusion: the composite of ", group.size(), " nodes has type ",
                    ir::TypeString(out->type), " but its root ", root->DisplayName(), " has ",
                    ir::TypeString(root->type));
  }
  graph.ReplaceAllUses(root, out);
  return true;
}

// How many nodes read each variable, and which variables are graph outputs (update values ride
// along as outputs): an intermediate folds into its reader only when that reader is its one use
// and it escapes nowhere.
struct Readers {
  explicit Readers(const ir::Graph& graph)
      : escapes(graph.outputs().begin(), graph.outputs().end()) {
    for (const auto& a : graph.applies())
      for (const ir::Variable* in : a->inputs) ++uses[in];
  }
  std::unordered_map<const ir::Variable*, int> uses;
  const std::unordered_set<const ir::Variable*> escapes;
};

class FusionPass final : public Pass {
 public:
  std::string name() const override { return "fusion"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::vector<ir::Apply*> nodes;
    for (const auto& a : graph.applies()) nodes.push_back(a.get());
    Readers readers(graph);
    auto& uses = readers.uses;
    const auto& escapes = readers.escapes;
    std::unordered_map<const ir::Apply*, int> position;
    std::vector<DType> dtype(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      position[nodes[i]] = static_cast<int>(i);
      dtype[i] = ComputeDType(*nodes[i]);
    }

    // Roots from the last node back: a node not taken by a later group roots its own.
    std::vector<int> group_of(nodes.size(), -1);
    std::vector<std::vector<int>> groups;
    for (int i = static_cast<int>(nodes.size()) - 1; i >= 0; --i) {
      if (group_of[i] >= 0 || dtype[i] == DType::kInvalid) continue;
      if (nodes[i]->def->scalar->predicate) continue;  // a bool result cannot leave a group
      const int id = static_cast<int>(groups.size());
      std::vector<int> members = {i};
      group_of[i] = id;
      // A producer joins once the group holds every use of its output.
      std::unordered_map<const ir::Variable*, int> inside;
      for (size_t w = 0; w < members.size(); ++w) {
        for (const ir::Variable* in : nodes[members[w]]->inputs) {
          if (++inside[in] != uses[in] || in->owner == nullptr || escapes.count(in)) continue;
          const int p = position.at(in->owner);
          if (group_of[p] >= 0 || dtype[p] != dtype[i]) continue;
          group_of[p] = id;
          members.push_back(p);
        }
      }
      groups.push_back(std::move(members));
    }

    bool changed = false;
    std::unordered_set<const ir::Apply*> fused;
    for (std::vector<int>& members : groups) {
      if (members.size() < 2) continue;
      std::sort(members.begin(), members.end());  // topological: the root comes last
      std::vector<const ir::Apply*> group;
      for (int m : members) group.push_back(nodes[m]);
      TENSORD_ASSIGN_OR_RETURN(bool built, Fuse(graph, group, dtype[members.back()], nullptr));
      if (!built) continue;
      fused.insert(group.begin(), group.end());
      changed = true;
    }
    if (!changed) return false;
    // The fused nodes are dead now; drop exactly them (and the constants only they used).
    TENSORD_RETURN_IF_ERROR(RemoveReplacedNodes(graph, fused));
    return true;
  }
};

// Folds full reductions into the expressions they reduce (fusion.h): a sum, mean, max or min
// over every axis whose input only it reads, made by a composite or a single fusable node of its
// dtype, becomes that composite with `reduce`.
class ReductionFusionPass final : public Pass {
 public:
  std::string name() const override { return "reduction_fusion"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    std::vector<const ir::Apply*> nodes;
    for (const auto& a : graph.applies()) nodes.push_back(a.get());
    Readers readers(graph);
    std::unordered_set<const ir::Apply*> fused;
    for (const ir::Apply* r : nodes) {
      if (r->inputs.empty()) continue;
      const ir::Variable* v = r->inputs[0];
      const ir::Apply* p = v->owner;
      if (p == nullptr || readers.uses[v] != 1 || readers.escapes.count(v) || fused.count(p)) {
        continue;
      }
      const DType dtype = r->outputs.empty() ? DType::kInvalid : r->outputs[0]->type.dtype;
      if (!IsFullReductionIn(r, dtype)) continue;
      bool built = false;
      if (p->op == "composite" && !p->attrs.count("reduce") && p->outputs[0]->type.dtype == dtype) {
        built = AddReduce(graph, *p, *r);
      } else if (ComputeDType(*p) == dtype && !p->def->scalar->predicate) {
        TENSORD_ASSIGN_OR_RETURN(built, Fuse(graph, {p}, dtype, r));
      }
      if (built) fused.insert({p, r});
    }
    if (fused.empty()) return false;
    TENSORD_RETURN_IF_ERROR(RemoveReplacedNodes(graph, fused));
    return true;
  }

 private:
  // The composite `p` again, with `r`'s reduction; replaces r's output.
  static bool AddReduce(ir::Graph& graph, const ir::Apply& p, const ir::Apply& r) {
    ir::Attrs attrs = p.attrs;
    attrs["reduce"] = r.op;
    ops::NodeBuilder b(graph);
    ir::Variable* out = b.Apply("composite", p.inputs, std::move(attrs));
    if (!b.status().ok() || !(out->type == r.outputs[0]->type)) return false;
    graph.ReplaceAllUses(r.outputs[0], out);
    return true;
  }
};

}  // namespace

std::unique_ptr<Pass> MakeFusionPass() { return std::make_unique<FusionPass>(); }

std::unique_ptr<Pass> MakeReductionFusionPass() { return std::make_unique<ReductionFusionPass>(); }

}  // namespace tensord::passes
