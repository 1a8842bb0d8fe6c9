// Grad rules of the indexing ops (basic and advanced, read and inc/set), in Theano's forms: a
// read scatters gz into zeros shaped like x with the matching inc op (repeated indices
// accumulate); an inc passes gz to x and gives y the selected part of gz.
#include "engine/ops/grads/subtensor.h"

#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;

// Index inputs start at `first` (after x, or after x and y).
std::vector<Variable*> IndexInputs(const ir::Apply& node, size_t first) {
  return {node.inputs.begin() + first, node.inputs.end()};
}

// The indexed op applied to `x` (and `y` for an inc) with `node`'s index inputs and idx_list.
Variable* Reapply(NodeBuilder& b, const ir::Apply& node, const std::string& op, size_t first,
                  std::vector<Variable*> head, bool set = false) {
  std::vector<Variable*> inputs = std::move(head);
  for (Variable* i : IndexInputs(node, first)) inputs.push_back(i);
  ir::Attrs attrs;
  if (auto it = node.attrs.find("idx_list"); it != node.attrs.end()) attrs["idx_list"] = it->second;
  if (op.find("inc_") != std::string::npos) attrs["set_instead_of_inc"] = set;
  return b.Apply(op, std::move(inputs), std::move(attrs));
}

}  // namespace

// x[idx] read by `inc_op`'s counterpart: gx = inc(zeros_like(x), gz, idx) (Theano's
// Subtensor / AdvancedSubtensor(1).grad). The indices get nothing.
GradFn IndexReadGrad(std::string inc_op) {
  return [inc_op](NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
    Grads out(node.inputs.size(), nullptr);
    if (gz[0] == nullptr) return out;
    Variable* x = node.inputs[0];
    Variable* zeros = b.Fill(x, b.Constant(0, gz[0]->type.dtype));
    out[0] = Reapply(b, node, inc_op, 1, {zeros, gz[0]});
    return out;
  };
}

// z = x with x[idx] += y (or = y). gx = gz, with the selected region zeroed in set mode (those
// elements of x were overwritten); gy = gz[idx] summed over the dims y was broadcast along
// (Theano's IncSubtensor / AdvancedIncSubtensor(1).grad). In set mode a repeated index gives
// every copy of y gz at that place, as Theano does, though only the last write reaches z.
GradFn IndexIncGrad(std::string read_op) {
  return [read_op](NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
    Grads out(node.inputs.size(), nullptr);
    if (gz[0] == nullptr) return out;
    Variable* y = node.inputs[1];
    auto set = ir::GetAttr<bool>(node, "set_instead_of_inc");
    if (set.ok() && *set) {
      out[0] = Reapply(b, node, node.op, 2, {gz[0], b.Constant(0, gz[0]->type.dtype)}, true);
    } else {
      out[0] = gz[0];
    }
    out[1] = b.SumToLike(Reapply(b, node, read_op, 2, {gz[0]}), y);
    return out;
  };
}

}  // namespace tensord::ops
