#include "engine/passes/rule_set.h"

#include <cstdio>
#include <cstdlib>
#include <deque>
#include <unordered_set>

#include "engine/ops/op_def.h"
#include "engine/runtime/interrupt.h"

namespace tensord::passes {

ir::Variable* FitType(ops::NodeBuilder& b, ir::Variable* v, const ir::Type& type) {
  if (v == nullptr || v->type == type) return v;
  if (v->type.ndim() > type.ndim()) return nullptr;
  v = b.Cast(v, type.dtype);
  if (v != nullptr && v->type.ndim() < type.ndim()) {
    // NumPy aligns ranks on the right: the missing leading dims are broadcastable.
    std::vector<int64_t> order(type.ndim() - v->type.ndim(), -1);
    for (int d = 0; d < v->type.ndim(); ++d) order.push_back(d);
    v = b.Dimshuffle(v, order);
  }
  if (v == nullptr || !(v->type == type)) return nullptr;
  return v;
}

RuleSet::RuleSet(std::string name, std::vector<Rule> rules) : name_(std::move(name)) {
  for (Rule& r : rules) {
    // A rule keyed by an op the registry does not know would never fire: a programming error
    // that every test building the pipeline catches.
    if (ops::Registry::Global().Find(r.op) == nullptr) {
      std::fprintf(stderr, "pass '%s': rule '%s' matches unknown op '%s'\n", name_.c_str(),
                   r.name.c_str(), r.op.c_str());
      std::abort();
    }
    by_op_[r.op].push_back(std::move(r));
  }
}

namespace {

// Use counts and consumer lists kept up to date while rules rewrite, so a replacement costs
// the consumers it touches instead of a scan of the graph (Graph::ReplaceAllUses).
class UseTracker {
 public:
  explicit UseTracker(ir::Graph& g) : graph_(g) {
    for (const auto& a : g.applies()) Register(a.get());
    for (const ir::Variable* o : g.outputs()) ++uses_[o];
  }

  std::unordered_map<const ir::Variable*, int>& uses() { return uses_; }
  bool dead(const ir::Apply* a) const { return dead_.count(a) > 0; }

  const ir::Apply* SoleConsumer(const ir::Variable* v) const {
    if (Uses(v) != 1) return nullptr;
    auto it = consumers_.find(v);
    if (it == consumers_.end()) return nullptr;  // its one use is a graph output
    for (const ir::Apply* c : it->second)
      if (!dead(c)) return c;
    return nullptr;
  }

  void Register(ir::Apply* a) {
    for (ir::Variable* in : a->inputs) {
      ++uses_[in];
      auto& c = consumers_[in];
      if (c.empty() || c.back() != a) c.push_back(a);
    }
  }

  // Rewires every live use of `from` to `to`; `touched` receives the rewired consumers.
  void Replace(ir::Variable* from, ir::Variable* to, std::vector<ir::Apply*>* touched) {
    std::vector<ir::Apply*> list = std::move(consumers_[from]);
    consumers_.erase(from);
    for (ir::Apply* c : list) {
      if (dead(c)) continue;
      bool used = false;
      for (ir::Variable*& in : c->inputs) {
        if (in != from) continue;
        in = to;
        ++uses_[to];
        used = true;
      }
      if (!used) continue;
      auto& tc = consumers_[to];
      if (tc.empty() || tc.back() != c) tc.push_back(c);
      touched->push_back(c);
    }
    for (ir::Variable*& out : graph_.outputs()) {
      if (out != from) continue;
      out = to;
      ++uses_[to];
    }
    uses_[from] = 0;
  }

  // Marks `a` dead when none of its outputs is used, then its producers that this leaves
  // unused. A variable left with one consumer may now satisfy a single-use rule: its consumer
  // and its producer go to `revisit`.
  void KillIfUnused(ir::Apply* a, std::vector<ir::Apply*>* revisit) {
    std::vector<ir::Apply*> stack = {a};
    while (!stack.empty()) {
      ir::Apply* n = stack.back();
      stack.pop_back();
      if (dead(n)) continue;
      bool used = false;
      for (const ir::Variable* o : n->outputs) used |= Uses(o) > 0;
      if (used) continue;
      dead_.insert(n);
      for (ir::Variable* in : n->inputs) {
        int left = --uses_[in];
        if (left == 0 && in->owner != nullptr) stack.push_back(in->owner);
        if (left == 1) {
          for (ir::Apply* c : consumers_[in])
            if (!dead(c)) revisit->push_back(c);
          // And its producer: a rule that left a node to its consumer (canonicalize's flatten
          // defers to an enclosing add) must look again once that consumer is gone.
          if (in->owner != nullptr && !dead(in->owner)) revisit->push_back(in->owner);
        }
      }
    }
  }

 private:
  int Uses(const ir::Variable* v) const {
    auto it = uses_.find(v);
    return it == uses_.end() ? 0 : it->second;
  }

  ir::Graph& graph_;
  std::unordered_map<const ir::Variable*, int> uses_;
  std::unordered_map<const ir::Variable*, std::vector<ir::Apply*>> consumers_;
  std::unordered_set<const ir::Apply*> dead_;
};

}  // namespace

absl::StatusOr<bool> RuleSet::Run(ir::Graph& graph) {
  fired_.clear();
  UseTracker tracker(graph);
  std::deque<ir::Apply*> worklist;
  std::unordered_set<const ir::Apply*> queued;
  auto enqueue = [&](ir::Apply* a) {
    if (by_op_.count(a->op) && queued.insert(a).second) worklist.push_back(a);
  };
  for (const auto& a : graph.applies()) enqueue(a.get());
  // Rules that undo each other must not spin forever: a generous bound on rewrites.
  int64_t budget = 16 * static_cast<int64_t>(graph.applies().size()) + 1024;
  bool changed = false;
  int64_t visits = 0;
  while (!worklist.empty() && budget > 0) {
    if ((++visits & 1023) == 0) TENSORD_RETURN_IF_ERROR(runtime::CheckInterrupted());
    ir::Apply* a = worklist.front();
    worklist.pop_front();
    queued.erase(a);
    // A node whose output 0 nobody reads has nothing a rule could improve.
    if (tracker.dead(a) || a->outputs.empty() || tracker.uses()[a->outputs[0]] == 0) continue;
    for (const Rule& rule : by_op_.at(a->op)) {
      const size_t before = graph.applies().size();
      RuleContext ctx(graph, tracker.uses(),
                      [&tracker](const ir::Variable* v) { return tracker.SoleConsumer(v); });
      ir::Variable* out = a->outputs[0];
      ir::Variable* r = rule.fn(ctx, *a);
      if (r != nullptr && r != out && !(r->type == out->type)) r = FitType(ctx, r, out->type);
      if (!ctx.status().ok()) {
        return Internal("rule '", rule.name, "' on ", a->op, ": ", ctx.status().message());
      }
      std::vector<ir::Apply*> created;
      for (size_t i = before; i < graph.applies().size(); ++i) {
        created.push_back(graph.applies()[i].get());
        tracker.Register(created.back());
      }
      std::vector<ir::Apply*> revisit;
      if (r == nullptr || r == out) {
        // The rule gave up after building nodes: they are unused.
        for (auto it = created.rbegin(); it != created.rend(); ++it)
          tracker.KillIfUnused(*it, &revisit);
        continue;
      }
      tracker.Replace(out, r, &revisit);
      tracker.KillIfUnused(a, &revisit);
      for (ir::Apply* c : created) tracker.KillIfUnused(c, &revisit);
      ++fired_[rule.name];
      changed = true;
      --budget;
      // New nodes first (they come before their consumers), then whatever the rewrite touched.
      for (ir::Apply* c : created)
        if (!tracker.dead(c)) enqueue(c);
      for (ir::Apply* c : revisit)
        if (!tracker.dead(c)) enqueue(c);
      break;
    }
  }
  if (changed) TENSORD_RETURN_IF_ERROR(graph.SortTopologically());
  return changed;
}

}  // namespace tensord::passes
