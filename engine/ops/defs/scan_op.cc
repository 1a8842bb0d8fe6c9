// scan and scan_grad: loops whose step function is an inner graph (Apply::bodies[0]). Their
// kernels are built by the compiler (engine/compile/scan_kernel.h), which compiles the body once;
// here are only the type rules, which check everything the kernel relies on.
#include <unordered_map>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/scan_layout.h"
#include "engine/ops/grads/scan.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using ir::Type;
using ir::TypeString;

absl::Status CheckNSteps(const ir::Apply& node, const std::string& label) {
  const ir::Variable* n = node.inputs[0];
  if (n->type.ndim() != 0 || !IsInteger(n->type.dtype)) {
    return InvalidArgument(label, ": n_steps must be an integer scalar, got ", TypeString(n->type));
  }
  if (std::optional<int64_t> value = ConstantInt(n)) {
    if (*value < 0) {
      return InvalidArgument(label, ": n_steps is ", *value,
                             "; a scan cannot run a negative number of steps");
    }
  }
  return absl::OkStatus();
}

// The body's input `index` must have type `want`; `what` says which argument it stands for.
absl::Status CheckBodyInput(const ir::Graph& body, int index, const Type& want,
                            const std::string& label, const std::string& what) {
  const Type& got = body.inputs()[index]->type;
  if (got == want) return absl::OkStatus();
  return InvalidArgument(label, ": step function input ", index, " (", what, ") has type ",
                         TypeString(got), " but ", TypeString(want), " was expected");
}

// A state's next value must keep its dtype and ndim (its shape is checked at run time).
absl::Status CheckStateOutput(const Type& state, const Type& out, const std::string& label,
                              const std::string& what) {
  if (state.dtype != out.dtype) {
    return InvalidArgument(label, ": ", what, " has dtype ", DTypeName(state.dtype),
                           " but the step function returns ", DTypeName(out.dtype),
                           " for it (cast one of them so they agree)");
  }
  if (state.ndim() != out.ndim()) {
    return InvalidArgument(label, ": ", what, " has ", state.ndim(),
                           " dimensions per step but the step function returns ", out.ndim(),
                           " dimensions for it");
  }
  return absl::OkStatus();
}

// The step function's inputs (the first NumBodyInputs of `body`) against the outer inputs:
// one row of each sequence, one row of each state per tap, the shared states, the
// non-sequences. scan and scan_grad share it.
absl::Status CheckStepInputs(const ir::Apply& node, const ScanLayout& l, const ir::Graph& body,
                             const std::string& label) {
  for (int i = 0; i < l.n_seqs; ++i) {
    const Type& seq = node.inputs[l.SeqInput(i)]->type;
    if (seq.ndim() == 0) {
      return InvalidArgument(label, ": sequence ", i, " is a scalar (", TypeString(seq),
                             "); sequences are iterated over their first dimension");
    }
    TENSORD_RETURN_IF_ERROR(
        CheckBodyInput(body, l.BodySeq(i), RowType(seq), label, absl::StrCat("sequence ", i)));
  }
  for (int j = 0; j < l.n_mit; ++j) {
    const Type& init = node.inputs[l.InitInput(j)]->type;
    if (init.ndim() == 0) {
      return InvalidArgument(label, ": the initial state of recurrent output ", j,
                             " is a scalar; it needs a leading dimension of ", l.InitRows(j),
                             " (one row per step before the first)");
    }
    for (size_t k = 0; k < l.taps[j].size(); ++k) {
      TENSORD_RETURN_IF_ERROR(
          CheckBodyInput(body, l.BodyTap(j, static_cast<int>(k)), RowType(init), label,
                         absl::StrCat("recurrent output ", j, " at t", l.taps[j][k])));
    }
  }
  for (int k = 0; k < l.n_shared; ++k) {
    TENSORD_RETURN_IF_ERROR(CheckBodyInput(body, l.BodyShared(k),
                                           node.inputs[l.SharedInput(k)]->type, label,
                                           absl::StrCat("shared state ", k)));
  }
  for (int k = 0; k < l.n_non_seqs; ++k) {
    TENSORD_RETURN_IF_ERROR(CheckBodyInput(body, l.BodyNonSeq(k),
                                           node.inputs[l.NonSeqInput(k)]->type, label,
                                           absl::StrCat("non-sequence ", k)));
  }
  return absl::OkStatus();
}

// Checks the forward body against the outer inputs; returns the forward's output types.
absl::StatusOr<std::vector<Type>> CheckForward(const ir::Apply& node, const ScanLayout& l,
                                               const ir::Graph& body) {
  const std::string label = l.Label();
  TENSORD_RETURN_IF_ERROR(CheckBodyIsClosed(body, label));
  TENSORD_RETURN_IF_ERROR(CheckNSteps(node, label));
  if (static_cast<int>(body.inputs().size()) != l.NumBodyInputs()) {
    return InvalidArgument(label, ": the step function takes ", body.inputs().size(),
                           " inputs but the scan passes ", l.NumBodyInputs(), " (", l.n_seqs,
                           " sequences, ", l.total_taps, " output taps, ", l.n_shared,
                           " shared states, ", l.n_non_seqs, " non-sequences)");
  }
  if (static_cast<int>(body.outputs().size()) != l.NumBodyOutputs()) {
    return InvalidArgument(label, ": the step function returns ", body.outputs().size(),
                           " values but the scan expects ", l.NumBodyOutputs(), " (", l.n_mit,
                           " recurrent outputs, ", l.n_nit, " non-recurrent outputs, ", l.n_shared,
                           " shared states", l.until ? ", the until condition" : "", ")");
  }
  TENSORD_RETURN_IF_ERROR(CheckStepInputs(node, l, body, label));
  std::vector<Type> outs;
  for (int j = 0; j < l.n_mit; ++j) {
    const Type row = RowType(node.inputs[l.InitInput(j)]->type);
    const Type& next = body.outputs()[l.OutMit(j)]->type;
    TENSORD_RETURN_IF_ERROR(CheckStateOutput(
        row, next, label, absl::StrCat("the initial state of recurrent output ", j)));
    Type out = row;
    for (int d = 0; d < out.ndim(); ++d)
      out.broadcastable[d] = row.broadcastable[d] && next.broadcastable[d];
    outs.push_back(StackedType(out));
  }
  for (int k = 0; k < l.n_nit; ++k) outs.push_back(StackedType(body.outputs()[l.OutNit(k)]->type));
  for (int k = 0; k < l.n_shared; ++k) {
    const Type& init = node.inputs[l.SharedInput(k)]->type;
    const Type& next = body.outputs()[l.OutShared(k)]->type;
    TENSORD_RETURN_IF_ERROR(CheckStateOutput(init, next, label, absl::StrCat("shared state ", k)));
    // The final value is output with the state's type and no step checks its shape, so a dim
    // the state declares broadcastable (length 1) must stay so (Theano refuses such updates).
    for (int d = 0; d < init.ndim(); ++d) {
      if (init.broadcastable[d] && !next.broadcastable[d]) {
        return InvalidArgument(label, ": shared state ", k, " has type ", TypeString(init),
                               " but the step function returns ", TypeString(next),
                               " for it, whose dim ", d,
                               " may not be 1 (make the update broadcastable there, or the "
                               "variable not)");
      }
    }
    outs.push_back(init);
  }
  if (l.until && body.outputs().back()->type.ndim() != 0) {
    return InvalidArgument(label, ": the until condition must be a scalar, got ",
                           TypeString(body.outputs().back()->type));
  }
  return outs;
}

absl::StatusOr<std::vector<Type>> InferScan(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(ScanLayout l, ParseScanLayout(node));
  return CheckForward(node, l, *node.bodies[0]);
}

// scan_grad's layout on top of the forward's: see engine/grad/scan_rule.cc.
absl::StatusOr<std::vector<Type>> InferScanGrad(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(ScanGradLayout gl, ParseScanGradLayout(node));
  const ScanLayout& l = gl.forward;
  const std::string label = "gradient of " + l.Label();
  if (l.until) return InvalidArgument(label, ": a scan with an until condition has no gradient");
  TENSORD_RETURN_IF_ERROR(CheckNSteps(node, label));
  const ir::Graph& body = *node.bodies[0];
  TENSORD_RETURN_IF_ERROR(CheckBodyIsClosed(body, label));
  int n_nit_grads = 0;
  for (int64_t g : gl.nit_grads) n_nit_grads += static_cast<int>(g);
  const int body_inputs = l.NumBodyInputs() + l.n_mit + n_nit_grads;
  const int body_outputs = l.n_seqs + l.total_taps + l.n_non_seqs;
  if (static_cast<int>(body.inputs().size()) != body_inputs ||
      static_cast<int>(body.outputs().size()) != body_outputs) {
    return InvalidArgument(label, ": the gradient body takes ", body.inputs().size(),
                           " inputs and returns ", body.outputs().size(), " values; expected ",
                           body_inputs, " and ", body_outputs);
  }
  TENSORD_RETURN_IF_ERROR(CheckStepInputs(node, l, body, label));
  for (int j = 0; j < l.n_mit; ++j) {
    const Type& init = node.inputs[l.InitInput(j)]->type;
    const Type& out = node.inputs[gl.ForwardOutput(j)]->type;  // the forward's stacked output
    if (out.dtype != init.dtype || out.ndim() != init.ndim())
      return InvalidArgument(label, ": forward output ", j, " does not match its initial state");
  }
  // Output gradients (one row per step, fed to the body after the forward's inputs), then the
  // shared states' stacked per-step values.
  int next_input = gl.FirstOutputGrad();
  int body_in = l.NumBodyInputs();
  for (int j = 0; j < l.n_mit; ++j) {
    const Type want = GradType(node.inputs[gl.ForwardOutput(j)]->type);
    if (gl.mit_grads[j]) {
      const Type& g = node.inputs[next_input++]->type;
      if (g.dtype != want.dtype || g.ndim() != want.ndim())
        return InvalidArgument(label, ": the gradient of output ", j, " has type ", TypeString(g),
                               " but the output is ", TypeString(want));
    }
    const Type& gin = body.inputs()[body_in++]->type;
    if (gin.dtype != want.dtype || gin.ndim() != want.ndim() - 1)
      return InvalidArgument(label, ": gradient body input for output ", j, " has type ",
                             TypeString(gin));
  }
  for (int k = 0; k < l.n_nit; ++k) {
    if (!gl.nit_grads[k]) continue;
    const Type& g = node.inputs[next_input++]->type;
    const Type& gin = body.inputs()[body_in++]->type;
    if (g.ndim() == 0 || g.dtype != gin.dtype || g.ndim() - 1 != gin.ndim())
      return InvalidArgument(label, ": the gradient of output ", l.n_mit + k, " has type ",
                             TypeString(g), " but the body takes ", TypeString(gin));
  }
  for (int k = 0; k < l.n_shared; ++k) {
    if (!gl.shared_histories[k]) continue;
    const Type& history = node.inputs[next_input++]->type;
    const Type& state = node.inputs[l.SharedInput(k)]->type;
    if (history.ndim() == 0 || !(RowType(history) == state))
      return InvalidArgument(label, ": the history of shared state ", k, " has type ",
                             TypeString(history), " but the state is ", TypeString(state));
  }
  if (next_input != static_cast<int>(node.inputs.size()))
    return InvalidArgument(label, ": scan_grad has ", node.inputs.size(), " inputs, expected ",
                           next_input);
  // The body's gradients must be shaped like what they accumulate into.
  std::vector<Type> outs;
  auto check_out = [&](int index, const Type& want, const std::string& what) -> absl::Status {
    const Type& got = body.outputs()[index]->type;
    if (got.dtype != want.dtype || got.ndim() != want.ndim())
      return InvalidArgument(label, ": the gradient body returns ", TypeString(got), " for ", what,
                             ", expected ", TypeString(want));
    return absl::OkStatus();
  };
  for (int i = 0; i < l.n_seqs; ++i) {
    const Type g = GradType(node.inputs[l.SeqInput(i)]->type);
    TENSORD_RETURN_IF_ERROR(check_out(i, RowType(g), absl::StrCat("sequence ", i)));
    outs.push_back(g);
  }
  for (int j = 0; j < l.n_mit; ++j) {
    const Type g = GradType(node.inputs[l.InitInput(j)]->type);
    for (size_t k = 0; k < l.taps[j].size(); ++k) {
      TENSORD_RETURN_IF_ERROR(check_out(l.n_seqs + l.tap_offset[j] + static_cast<int>(k),
                                        RowType(g), absl::StrCat("recurrent output ", j)));
    }
    outs.push_back(g);
  }
  for (int k = 0; k < l.n_non_seqs; ++k) {
    const Type g = GradType(node.inputs[l.NonSeqInput(k)]->type);
    TENSORD_RETURN_IF_ERROR(
        check_out(l.n_seqs + l.total_taps + k, g, absl::StrCat("non-sequence ", k)));
    outs.push_back(g);
  }
  return outs;
}

// For each body output, which body inputs it depends on (a walk of the body's graph).
std::vector<std::vector<bool>> BodyDependencies(const ir::Graph& body) {
  std::unordered_map<const ir::Variable*, std::vector<bool>> deps;
  const size_t n_in = body.inputs().size();
  for (size_t i = 0; i < n_in; ++i) {
    std::vector<bool> only(n_in, false);
    only[i] = true;
    deps[body.inputs()[i]] = std::move(only);
  }
  for (const auto& a : body.applies()) {  // topological: inputs are done first
    std::vector<bool> d(n_in, false);
    for (const ir::Variable* in : a->inputs) {
      auto it = deps.find(in);
      if (it == deps.end()) continue;  // a constant
      for (size_t i = 0; i < n_in; ++i) d[i] = d[i] || it->second[i];
    }
    for (const ir::Variable* out : a->outputs) deps[out] = d;
  }
  std::vector<std::vector<bool>> result;
  for (const ir::Variable* out : body.outputs()) {
    auto it = deps.find(out);
    result.push_back(it == deps.end() ? std::vector<bool>(n_in, false) : it->second);
  }
  return result;
}

// scan's connection pattern: an outer input reaches an output when the output's step value
// reads it, directly or through the states it reads (a state carries its initial value and
// whatever reached it in earlier steps). n_steps reaches everything.
std::vector<std::vector<bool>> ScanConnections(const ir::Apply& node) {
  const size_t n_in = node.inputs.size(), n_out = node.outputs.size();
  std::vector<std::vector<bool>> pattern(n_in, std::vector<bool>(n_out, true));
  absl::StatusOr<ScanLayout> parsed = ParseScanLayout(node);
  if (!parsed.ok()) return pattern;  // a node that type-checked always parses
  const ScanLayout& l = *parsed;
  const auto body = BodyDependencies(*node.bodies[0]);
  // The outer input behind each body input; states (-1 - index among states) are resolved
  // through `state_reach`, states being the recurrent outputs then the shared outs.
  std::vector<int> source(l.NumBodyInputs());
  for (int i = 0; i < l.n_seqs; ++i) source[l.BodySeq(i)] = l.SeqInput(i);
  for (int j = 0; j < l.n_mit; ++j)
    for (size_t k = 0; k < l.taps[j].size(); ++k)
      source[l.BodyTap(j, static_cast<int>(k))] = -1 - j;
  for (int k = 0; k < l.n_shared; ++k) source[l.BodyShared(k)] = -1 - (l.n_mit + k);
  for (int k = 0; k < l.n_non_seqs; ++k) source[l.BodyNonSeq(k)] = l.NonSeqInput(k);
  const int n_states = l.n_mit + l.n_shared;
  auto state_output = [&](int s) { return s < l.n_mit ? l.OutMit(s) : l.OutShared(s - l.n_mit); };
  auto state_init = [&](int s) {
    return s < l.n_mit ? l.InitInput(s) : l.SharedInput(s - l.n_mit);
  };
  // Outer inputs reaching each state, to a fixed point (states feed each other across steps).
  std::vector<std::vector<bool>> state_reach(n_states, std::vector<bool>(n_in, false));
  for (int s = 0; s < n_states; ++s) state_reach[s][state_init(s)] = true;
  auto reach_of = [&](int body_output) {
    std::vector<bool> r(n_in, false);
    for (int i = 0; i < l.NumBodyInputs(); ++i) {
      if (!body[body_output][i]) continue;
      if (source[i] >= 0) {
        r[source[i]] = true;
      } else {
        const auto& from = state_reach[-1 - source[i]];
        for (size_t k = 0; k < n_in; ++k) r[k] = r[k] || from[k];
      }
    }
    return r;
  };
  for (bool changed = true; changed;) {
    changed = false;
    for (int s = 0; s < n_states; ++s) {
      std::vector<bool> r = reach_of(state_output(s));
      for (size_t k = 0; k < n_in; ++k) {
        if (r[k] && !state_reach[s][k]) changed = state_reach[s][k] = true;
      }
    }
  }
  for (size_t o = 0; o < n_out; ++o) {
    std::vector<bool> r = reach_of(static_cast<int>(o));
    // With zero steps a shared out's final value is its initial value.
    if (o >= static_cast<size_t>(l.n_mit + l.n_nit))
      r[l.SharedInput(static_cast<int>(o) - l.n_mit - l.n_nit)] = true;
    for (size_t i = 1; i < n_in; ++i) pattern[i][o] = r[i];
  }
  return pattern;
}

// Theano's Scan prints as for{cpu,<name>}; its gradient's scan is named grad_of_<name>.
std::string ScanTheanoName(const ir::Apply& node, const std::string&) {
  auto name = ir::GetAttr<std::string>(node, "name");
  const std::string fn = name.ok() && !name->empty() ? *name : "scan_fn";
  return absl::StrCat("for{cpu,", node.op == "scan" ? "" : "grad_of_", fn, "}");
}

}  // namespace

void RegisterScan(Registry& r) {
  OpDef scan = MakeOpDef(
      "scan", 1, -1,
      "scan(n_steps, sequences..., initial states..., shared states..., non_sequences...) with "
      "the step function as body 0: Theano's Scan (see docs/wire-protocol.md, scan); outputs "
      "the stacked recurrent and non-recurrent outputs and the final shared states",
      InferScan, ScanGrad);
  scan.num_bodies = 1;
  // The layout (ScanLayout::Attrs) and the step's options.
  const std::vector<std::string> layout = {"n_seqs",    "mit_sot_taps",  "mit_sot_tap_counts",
                                           "n_nit_sot", "n_shared_outs", "truncate_gradient",
                                           "until",     "name",          "mode"};
  scan.attrs = layout;
  scan.theano_render = ScanTheanoName;
  scan.connection_pattern = ScanConnections;
  r.Add(std::move(scan));
  OpDef grad = MakeOpDef(
      "scan_grad", 1, -1,
      "scan_grad(scan inputs..., recurrent outputs..., output gradients...): backpropagation "
      "through time of a scan (built by Differentiate; body 0 is the step's vector-Jacobian "
      "product); outputs the gradients of the sequences, initial states and non-sequences",
      InferScanGrad, ScanGradGrad);
  grad.num_bodies = 1;
  grad.attrs = layout;
  grad.attrs.insert(grad.attrs.end(), {"mit_sot_grads", "nit_sot_grads", "shared_histories"});
  grad.theano_render = ScanTheanoName;
  r.Add(std::move(grad));
}

}  // namespace tensord::ops
