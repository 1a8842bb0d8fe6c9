// The gradient of scan: backpropagation through time as one scan_grad node, whose body is the
// step function's vector-Jacobian product, built here once with the grad driver.
//
// scan_grad's inputs: the forward's inputs (same attrs, so the same layout), its recurrent
// outputs (the states the steps read), then the gradient of each recurrent output flagged in
// `mit_sot_grads` and of each non-recurrent output flagged in `nit_sot_grads`, then the
// per-step values of each shared state flagged in `shared_histories` (stacked by a replay of
// the forward scan, see ReplayWithHistories). Its body takes the
// forward body's inputs at step t, then the gradient reaching each recurrent output's value at t
// and each flagged non-recurrent output's gradient at t; it returns the gradients of the
// sequences' rows, of every tap's state and of the non-sequences. Outputs: the gradients of the
// sequences, the initial states and the non-sequences (float64 zeros for integer ones, which
// this rule drops). The kernel (engine/compile/scan_kernel.cc) walks the steps backwards,
// stopping after truncate_gradient steps.
#include <algorithm>
#include <map>

#include "engine/grad/grad.h"
#include "engine/ops/defs/scan_layout.h"
#include "engine/ops/grads/scan.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;

struct StepGradient {
  std::shared_ptr<const ir::Graph> body;
  // Per shared state: whether the gradient body reads its per-step values (a random stream
  // whose draws the gradient needs), which the forward scan does not keep.
  std::vector<int64_t> needs_history;
};

// The step's vector-Jacobian product (see the file comment for its inputs and outputs).
absl::StatusOr<StepGradient> BuildStepGradient(const ir::Graph& forward, const ScanLayout& l,
                                               const std::vector<int64_t>& nit_grads) {
  const std::string label = "gradient of " + l.Label();
  std::unique_ptr<ir::Graph> g = forward.Clone();
  const std::vector<Variable*> step_inputs = g->inputs();
  const std::vector<Variable*> step_outputs = g->outputs();
  NodeBuilder b(*g);
  std::vector<Variable*> grad_inputs;
  std::map<Variable*, Variable*> known;  // a value returned twice gets the sum of both
  auto seed = [&](Variable* value, Variable* grad) {
    if (!IsFloat(value->type.dtype)) return;
    auto [it, inserted] = known.emplace(value, grad);
    if (!inserted) it->second = b.Add(it->second, grad);
  };
  for (int j = 0; j < l.n_mit; ++j) {
    Variable* gin = g->AddInput(GradType(step_inputs[l.BodyTap(j, 0)]->type),
                                absl::StrCat("grad_of_output_", j));
    grad_inputs.push_back(gin);
    seed(step_outputs[l.OutMit(j)], gin);
  }
  for (int k = 0; k < l.n_nit; ++k) {
    if (!nit_grads[k]) continue;
    Variable* gin =
        g->AddInput(step_outputs[l.OutNit(k)]->type, absl::StrCat("grad_of_output_", l.OutNit(k)));
    grad_inputs.push_back(gin);
    seed(step_outputs[l.OutNit(k)], gin);
  }
  TENSORD_RETURN_IF_ERROR(b.status());
  grad::GradRequest request;
  request.wrt = step_inputs;
  request.known_grads.assign(known.begin(), known.end());
  request.disconnected_inputs = grad::OnDisconnected::kIgnore;
  request.return_disconnected = grad::ReturnDisconnected::kZero;
  TENSORD_ASSIGN_OR_RETURN(grad::GradResult result, grad::Grad(*g, request, [](const Variable* v) {
                             return v->DisplayName();
                           }));
  std::vector<Variable*> outputs;
  for (int i = 0; i < l.NumBodyInputs(); ++i) {
    const bool is_shared = i >= l.BodyShared(0) && i < l.BodyShared(0) + l.n_shared;
    if (!is_shared) {
      outputs.push_back(result.gradients[i]);
      continue;
    }
    // A float state the outputs depend on would need backpropagation through its own updates.
    const bool disconnected = std::find(result.disconnected.begin(), result.disconnected.end(),
                                        i) != result.disconnected.end();
    if (IsFloat(step_inputs[i]->type.dtype) && !disconnected) {
      return InvalidArgument(label, ": the outputs depend on shared state ", i - l.BodyShared(0),
                             " (a variable the step updates), and gradients through such "
                             "updates are not supported");
    }
  }
  g->inputs() = step_inputs;
  g->inputs().insert(g->inputs().end(), grad_inputs.begin(), grad_inputs.end());
  g->outputs() = outputs;
  g->RemoveDeadNodes();
  StepGradient out;
  for (int k = 0; k < l.n_shared; ++k) {
    const Variable* state = step_inputs[l.BodyShared(k)];
    bool read = false;
    for (const auto& a : g->applies())
      read |= std::find(a->inputs.begin(), a->inputs.end(), state) != a->inputs.end();
    out.needs_history.push_back(read);
  }
  out.body = std::shared_ptr<const ir::Graph>(std::move(g));
  return out;
}

// A scan that recomputes `node` and also stacks the values the shared states flagged in
// `needs_history` had at each step, as extra non-recurrent outputs after the node's own:
// the gradient body reads them (the random draws a step made) and the node keeps only final
// values. The replay draws exactly what the forward drew: it starts from the same states.
std::vector<Variable*> ReplayWithHistories(NodeBuilder& b, const ir::Apply& node,
                                           const ScanLayout& l,
                                           const std::vector<int64_t>& needs_history) {
  std::unique_ptr<ir::Graph> body = node.bodies[0]->Clone();
  std::vector<Variable*> extra;
  for (int k = 0; k < l.n_shared; ++k)
    if (needs_history[k]) extra.push_back(body->inputs()[l.BodyShared(k)]);
  auto& outs = body->outputs();
  outs.insert(outs.begin() + l.n_mit + l.n_nit, extra.begin(), extra.end());
  ScanLayout replay = l;
  replay.n_nit += static_cast<int>(extra.size());
  std::vector<Variable*> all = b.ApplyMulti("scan", node.inputs, ScanAttrs(replay),
                                            {std::shared_ptr<const ir::Graph>(std::move(body))});
  if (all.empty()) return {};
  auto first = all.begin() + l.n_mit + l.n_nit;
  return std::vector<Variable*>(first, first + static_cast<int64_t>(extra.size()));
}

}  // namespace

std::vector<Variable*> ScanGrad(NodeBuilder& b, const ir::Apply& node,
                                std::span<Variable* const> out_grads) {
  std::vector<Variable*> none(node.inputs.size(), nullptr);
  absl::StatusOr<ScanLayout> layout = ParseScanLayout(node);
  if (!layout.ok()) {
    b.Fail(layout.status());
    return none;
  }
  const ScanLayout& l = *layout;
  const std::string label = l.Label();
  for (int k = 0; k < l.n_shared; ++k) {
    if (out_grads[l.OutShared(k)] != nullptr) {
      b.Fail(InvalidArgument(label, ": cannot differentiate through shared state ", k,
                             " (an update inside the step)"));
      return none;
    }
  }
  std::vector<int64_t> mit_grads(l.n_mit), nit_grads(l.n_nit);
  bool any = false;
  for (int j = 0; j < l.n_mit; ++j) {
    mit_grads[j] = out_grads[l.OutMit(j)] != nullptr && IsFloat(node.outputs[j]->type.dtype);
    any |= mit_grads[j] != 0;
  }
  for (int k = 0; k < l.n_nit; ++k) {
    nit_grads[k] =
        out_grads[l.OutNit(k)] != nullptr && IsFloat(node.outputs[l.OutNit(k)]->type.dtype);
    any |= nit_grads[k] != 0;
  }
  if (!any) return none;
  if (l.until) {
    b.Fail(InvalidArgument(label,
                           ": the gradient of a scan with an until condition is not "
                           "supported (its number of steps is only known when it runs)"));
    return none;
  }
  absl::StatusOr<StepGradient> step = BuildStepGradient(*node.bodies[0], l, nit_grads);
  if (!step.ok()) {
    b.Fail(step.status());
    return none;
  }
  std::vector<Variable*> inputs = node.inputs;
  for (int j = 0; j < l.n_mit; ++j) inputs.push_back(node.outputs[l.OutMit(j)]);
  for (int j = 0; j < l.n_mit; ++j) {
    if (mit_grads[j]) inputs.push_back(b.Cast(out_grads[l.OutMit(j)], node.outputs[j]->type.dtype));
  }
  for (int k = 0; k < l.n_nit; ++k) {
    if (nit_grads[k])
      inputs.push_back(b.Cast(out_grads[l.OutNit(k)], node.outputs[l.OutNit(k)]->type.dtype));
  }
  if (std::count(step->needs_history.begin(), step->needs_history.end(), 1) > 0) {
    std::vector<Variable*> histories = ReplayWithHistories(b, node, l, step->needs_history);
    inputs.insert(inputs.end(), histories.begin(), histories.end());
  }
  ir::Attrs attrs = node.attrs;
  attrs["mit_sot_grads"] = mit_grads;
  attrs["nit_sot_grads"] = nit_grads;
  attrs["shared_histories"] = step->needs_history;
  std::vector<Variable*> grads = b.ApplyMulti("scan_grad", inputs, attrs, {step->body});
  if (grads.empty()) return none;
  std::vector<Variable*> result = none;
  auto keep_float = [&](int input, Variable* grad) {
    if (IsFloat(node.inputs[input]->type.dtype)) result[input] = grad;
  };
  for (int i = 0; i < l.n_seqs; ++i) keep_float(l.SeqInput(i), grads[i]);
  for (int j = 0; j < l.n_mit; ++j) keep_float(l.InitInput(j), grads[l.n_seqs + j]);
  for (int k = 0; k < l.n_non_seqs; ++k)
    keep_float(l.NonSeqInput(k), grads[l.n_seqs + l.n_mit + k]);
  return result;
}

std::vector<Variable*> ScanGradGrad(NodeBuilder& b, const ir::Apply& node,
                                    std::span<Variable* const>) {
  b.Fail(
      Unimplemented("second derivatives through scan (the gradient of scan_grad) are not "
                    "supported"));
  return std::vector<Variable*>(node.inputs.size(), nullptr);
}

}  // namespace tensord::ops
