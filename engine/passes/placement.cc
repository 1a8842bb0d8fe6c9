#include "engine/passes/placement.h"

#include <algorithm>
#include <map>

#include "engine/frontend/theano_names.h"
#include "engine/ops/node_builder.h"

namespace tensord::passes {
namespace {

class PlacementPass final : public Pass {
 public:
  explicit PlacementPass(Placement p) : p_(std::move(p)) {}
  std::string name() const override { return "placement"; }

  absl::StatusOr<bool> Run(ir::Graph& graph) override {
    where_.clear();
    transfers_.clear();
    changed_ = false;
    // The outputs the client itself transferred to a device stay there (recorded before any
    // transfer is found to be the identity and replaced by its input).
    kept_outputs_.assign(graph.outputs().size(), false);
    for (size_t i = 0; i < p_.num_outputs && i < graph.outputs().size(); ++i) {
      const ir::Apply* owner = graph.outputs()[i]->owner;
      if (owner == nullptr || owner->op != "transfer") continue;
      absl::StatusOr<std::string> target =
          Resolve(ir::GetAttr<std::string>(*owner, "target").value_or(""));
      kept_outputs_[i] = target.ok() && IsDevice(*target);
    }
    for (ir::Variable* in : graph.inputs()) {
      where_[in] = p_.body_context.empty() ? Location{"cpu", false} : Location{p_.body_context};
    }
    const std::vector<ir::Apply*> nodes = Snapshot(graph);
    ops::NodeBuilder b(graph);
    graph_ = &graph;
    for (ir::Apply* a : nodes) TENSORD_RETURN_IF_ERROR(PlaceNode(b, *a));
    TENSORD_RETURN_IF_ERROR(PlaceOutputs(b, graph));
    TENSORD_RETURN_IF_ERROR(b.status());
    if (changed_) TENSORD_RETURN_IF_ERROR(graph.SortTopologically());
    return changed_;
  }

 private:
  struct Location {
    std::string context;
    // false: does not draw its readers to `context` (graph inputs, and work on them alone)
    bool pinned = true;
  };

  static std::vector<ir::Apply*> Snapshot(ir::Graph& graph) {
    std::vector<ir::Apply*> nodes;
    for (const auto& a : graph.applies()) nodes.push_back(a.get());
    return nodes;
  }

  bool IsDevice(const std::string& context) const {
    absl::StatusOr<const context::Context*> c = p_.contexts->Find(context);
    return c.ok() && (*c)->is_device();
  }
  // A GPU: its kernels read only its own memory, so even a constant moves there, and the host's
  // shape kernels do not run there (a simulated device's memory is the host's).
  bool OwnMemory(const std::string& context) const {
    absl::StatusOr<const context::Context*> c = p_.contexts->Find(context);
    return c.ok() && (*c)->kind == context::DeviceKind::kCuda;
  }

  // A context name as written ("" = the function's default), checked against the registry.
  absl::StatusOr<std::string> Resolve(const std::string& context) const {
    const std::string name = context.empty() ? p_.default_context : context;
    TENSORD_RETURN_IF_ERROR(p_.contexts->Find(name).status());
    return name;
  }

  // Where `v` lives; constants live nowhere in particular (nullopt).
  std::optional<Location> LocationOf(const ir::Variable* v) const {
    if (v->source == ir::Source::kConstant) return std::nullopt;
    if (v->source == ir::Source::kShared) {
      auto it = p_.shared_context.find(v->shared_id);
      return Location{it == p_.shared_context.end() ? "cpu" : it->second};
    }
    auto it = where_.find(v);
    return it == where_.end() ? Location{"cpu", false} : it->second;
  }

  // Marks a node as running on `context` (the attribute only where that is a device). Its
  // outputs pin their readers when something pinned the node (a transfer, a pinned input): work
  // on graph inputs alone (x / 255) follows whoever reads it instead of drawing it along.
  void Mark(ir::Apply& a, const std::string& context, bool pinned) {
    if (IsDevice(context)) {
      a.attrs["context"] = context;
    } else {
      a.attrs.erase("context");
    }
    for (ir::Variable* out : a.outputs) where_[out] = {context, pinned};
  }

  // `v` moved to `context`: itself when it is there (or is a constant), else a transfer made
  // once per value and context, reusing the input of a transfer that came from there.
  ir::Variable* On(ops::NodeBuilder& b, ir::Variable* v, const std::string& context) {
    std::optional<Location> from = LocationOf(v);
    if (!from && !OwnMemory(context)) return v;  // a constant is read where it is
    if (from && from->context == context) return v;
    if (from && !IsDevice(from->context) && !IsDevice(context)) return v;  // host memory both
    if (const ir::Apply* owner = v->owner; owner != nullptr && owner->op == "transfer") {
      std::optional<Location> origin = LocationOf(owner->inputs[0]);
      if (origin && origin->context == context) return owner->inputs[0];
    }
    auto key = std::make_pair(v, context);
    if (auto it = transfers_.find(key); it != transfers_.end()) return it->second;
    ir::Attrs attrs{{"target", context}};
    if (from && IsDevice(from->context)) attrs["source"] = from->context;
    ir::Variable* moved = b.Apply("transfer", {v}, std::move(attrs));
    if (moved == nullptr) return v;
    Mark(*moved->owner, context, /*pinned=*/true);
    changed_ = true;
    return transfers_[key] = moved;
  }

  absl::Status PlaceNode(ops::NodeBuilder& b, ir::Apply& a) {
    if (a.op == "transfer") {
      TENSORD_ASSIGN_OR_RETURN(std::string target,
                               Resolve(ir::GetAttr<std::string>(a, "target").value_or("")));
      std::optional<Location> from = LocationOf(a.inputs[0]);
      if (!from || from->context == target || (!IsDevice(target) && !IsDevice(from->context))) {
        // Already there (a constant is wherever it is read): the transfer is the identity.
        where_[a.outputs[0]] = from.value_or(Location{target, false});
        graph_->ReplaceAllUses(a.outputs[0], a.inputs[0]);
        changed_ = true;
        return absl::OkStatus();
      }
      if (IsDevice(from->context)) {
        a.attrs["source"] = from->context;
      } else {
        a.attrs.erase("source");
      }
      Mark(a, target, /*pinned=*/true);
      transfers_[{a.inputs[0], target}] = a.outputs[0];  // later readers there reuse it
      return absl::OkStatus();
    }
    // A shape is read where its input lives: nothing moves for it (on the host for a GPU's
    // value: its metadata is the host's, the kernel writes host memory).
    if (a.op == "shape" || a.op == "shape_i") {
      std::optional<Location> l = LocationOf(a.inputs[0]);
      Mark(a, l && !OwnMemory(l->context) ? l->context : "cpu", /*pinned=*/false);
      return absl::OkStatus();
    }
    // Metadata a device reads on the host (a reshape's shape) decides nothing.
    std::vector<int> metadata;
    if (p_.host_inputs) {
      for (const auto& c : p_.contexts->all()) {
        if (!c->is_device()) continue;
        const std::vector<int> host = p_.host_inputs(*c, a);
        metadata.insert(metadata.end(), host.begin(), host.end());
      }
    }
    // Where the pinned inputs live: one context; or several, then a shared variable's (weights
    // stay put, activations move), else the default one.
    std::vector<std::string> pinned;
    std::optional<std::string> shared;
    for (size_t i = 0; i < a.inputs.size(); ++i) {
      const ir::Variable* in = a.inputs[i];
      if (std::find(metadata.begin(), metadata.end(), static_cast<int>(i)) != metadata.end()) {
        continue;
      }
      std::optional<Location> l = LocationOf(in);
      if (!l || !l->pinned) continue;
      if (std::find(pinned.begin(), pinned.end(), l->context) == pinned.end())
        pinned.push_back(l->context);
      if (in->source == ir::Source::kShared && !shared) shared = l->context;
    }
    TENSORD_ASSIGN_OR_RETURN(const std::string by_default, Resolve(""));
    std::string context = pinned.size() == 1 ? pinned[0] : shared.value_or(by_default);
    TENSORD_ASSIGN_OR_RETURN(const context::Context* c, p_.contexts->Find(context));
    bool fell_back = false;
    if (c->is_device() && p_.runs_on && !p_.runs_on(*c, a)) {
      // A node of scalars none of which lives on a device (an arange of host scalars) runs on
      // the host without asking: it is the kind of work a device leaves to the host.
      const bool of_host_scalars =
          pinned.empty() && std::all_of(a.inputs.begin(), a.inputs.end(),
                                        [](ir::Variable* in) { return in->type.ndim() == 0; });
      if (!p_.cpu_fallback && !of_host_scalars) {
        return InvalidArgument("op '", a.op, "' in ", ir::NodeLabel(a),
                               " has no kernel on context '", c->name, "' (", c->device,
                               "); compile with cpu_fallback to run it on cpu with transfers");
      }
      context = "cpu";
      fell_back = true;
    }
    TENSORD_ASSIGN_OR_RETURN(const context::Context* placed, p_.contexts->Find(context));
    const std::vector<int> host =
        placed->is_device() && p_.host_inputs ? p_.host_inputs(*placed, a) : std::vector<int>{};
    for (size_t i = 0; i < a.inputs.size(); ++i) {
      const bool on_host = std::find(host.begin(), host.end(), static_cast<int>(i)) != host.end();
      a.inputs[i] = On(b, a.inputs[i], on_host ? "cpu" : context);
    }
    // A node moved to cpu for want of a kernel does not draw its readers there.
    Mark(a, context, /*pinned=*/!pinned.empty() && !fell_back);
    return absl::OkStatus();
  }

  absl::Status PlaceOutputs(ops::NodeBuilder& b, ir::Graph& graph) {
    std::vector<ir::Variable*>& outs = graph.outputs();
    for (size_t i = 0; i < outs.size(); ++i) {
      if (i < p_.num_outputs) {
        // A scan body's end on its device; a function's return to the host, but for what the
        // client transferred to a device itself.
        if (!p_.body_context.empty()) {
          outs[i] = On(b, outs[i], p_.body_context);
        } else if (!kept_outputs_[i]) {
          outs[i] = On(b, outs[i], "cpu");
        }
      } else if (i - p_.num_outputs < p_.update_contexts.size()) {
        outs[i] = On(b, outs[i], p_.update_contexts[i - p_.num_outputs]);
      }
    }
    return absl::OkStatus();
  }

  Placement p_;
  ir::Graph* graph_ = nullptr;
  std::unordered_map<const ir::Variable*, Location> where_;
  std::map<std::pair<ir::Variable*, std::string>, ir::Variable*> transfers_;
  std::vector<bool> kept_outputs_;
  bool changed_ = false;
};

}  // namespace

std::unique_ptr<Pass> MakePlacementPass(Placement placement) {
  return std::make_unique<PlacementPass>(std::move(placement));
}

}  // namespace tensord::passes
