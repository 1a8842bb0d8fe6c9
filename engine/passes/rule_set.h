// Local algebra (DESIGN.md §5): a RuleSet is a pass made of rewrite rules indexed by the op they
// match. Each rule looks at one apply node and returns a variable to use instead of the node's
// output 0, or null. The pass applies its rules to a fixpoint with a worklist, so a rewrite that
// creates or exposes a new match is revisited without rescanning the graph.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/ops/node_builder.h"
#include "engine/passes/pass.h"

namespace tensord::passes {

// What a rule builds its replacement with: a NodeBuilder (errors sticky, as in grad rules)
// that also knows how many consumers each variable has, for rules that only pay off when the
// node they absorb has no other use (flattening add(add(a, b), c)).
class RuleContext : public ops::NodeBuilder {
 public:
  using SoleConsumerFn = std::function<const ir::Apply*(const ir::Variable*)>;
  RuleContext(ir::Graph& graph, const std::unordered_map<const ir::Variable*, int>& uses,
              SoleConsumerFn sole_consumer = nullptr)
      : NodeBuilder(graph), uses_(uses), sole_consumer_(std::move(sole_consumer)) {}
  // Consumers of `v` among live nodes, plus one per graph output that is `v`.
  int Uses(const ir::Variable* v) const {
    auto it = uses_.find(v);
    return it == uses_.end() ? 0 : it->second;
  }
  // The one live node that reads `v` when that is its only use (not a graph output), else null.
  const ir::Apply* SoleConsumer(const ir::Variable* v) const {
    return sole_consumer_ ? sole_consumer_(v) : nullptr;
  }

 private:
  const std::unordered_map<const ir::Variable*, int>& uses_;
  SoleConsumerFn sole_consumer_;
};

// Returns the replacement of node.outputs[0], or null when the rule does not apply. The
// replacement may be an existing variable (x * 1 -> x) or built with `b`.
using RuleFn = std::function<ir::Variable*(RuleContext& b, const ir::Apply& node)>;

struct Rule {
  std::string op;    // the op of the nodes the rule looks at
  std::string name;  // the rewrite, as "log(1 + x) -> log1p(x)"
  RuleFn fn;
};

class RuleSet : public Pass {
 public:
  RuleSet(std::string name, std::vector<Rule> rules);

  std::string name() const override { return name_; }
  // Applies rules until none matches (or a bound on rewrites per node is reached, against
  // rules that undo each other), then restores topological order. Replaced nodes stay in the
  // graph, dead, for the dead-code pass.
  absl::StatusOr<bool> Run(ir::Graph& graph) override;

  // How often each rule fired in the last Run (by rule name), for tests and traces.
  const std::map<std::string, int>& fired() const { return fired_; }

 private:
  std::string name_;
  std::unordered_map<std::string, std::vector<Rule>> by_op_;
  std::map<std::string, int> fired_;
};

// The replacement `v` adjusted to `type` when that is exact: a cast for the dtype and leading
// broadcastable dims for a lower rank (what NumPy broadcasting would add). Null when `v` cannot
// take the type (e.g. it would lose a broadcast to a bigger shape).
ir::Variable* FitType(ops::NodeBuilder& b, ir::Variable* v, const ir::Type& type);

}  // namespace tensord::passes
