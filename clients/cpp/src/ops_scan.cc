#include "tensord/ops_scan.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "src/op_util.h"
#include "tensord/ops.h"

namespace tensord::client {
namespace {

using ::tensord::v1::TensorType;

// What the outer graph feeds the scan apply, and where each outputs_info entry goes.
struct Layout {
  std::vector<Var> sequences;  // one slice per sequence tap, reversed with go_backwards
  std::vector<std::string> sequence_names;
  std::vector<Var> buffers;  // one initial buffer per recurrent output
  std::vector<std::vector<int64_t>> taps;
  std::vector<size_t> recurrent;  // outputs_info positions of the recurrent outputs
  std::vector<size_t> collected;  // outputs_info positions of the not-fed-back outputs
};

std::string Label(const ScanArgs& args) {
  return absl::StrCat("scan '", args.name.empty() ? "scan_fn" : args.name, "'");
}

TensorType RowType(const TensorType& type) {
  TensorType row;
  row.set_dtype(type.dtype());
  row.mutable_broadcastable()->Add(type.broadcastable().begin() + 1, type.broadcastable().end());
  return row;
}

bool IsPlainState(const ScanOutput& out) { return out.taps == std::vector<int64_t>{-1}; }

std::string TapName(const std::string& name, int64_t tap) {
  if (name.empty()) return "";
  if (tap == 0) return absl::StrCat(name, "[t]");
  return absl::StrCat(name, "[t", tap > 0 ? "+" : "", tap, "]");
}

// The checks of the outer arguments the engine would also make, as errors naming the argument.
absl::Status CheckArgs(GraphBuilder& g, const ScanArgs& args) {
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(Label(args), ": ", parts...));
  };
  auto owned = [&](const std::vector<Var>& vars, absl::string_view what) -> absl::Status {
    for (size_t i = 0; i < vars.size(); ++i) {
      if (!vars[i].valid()) return error(what, "[", i, "] is not a valid variable");
      if (vars[i].builder() != &g || !g.Find(vars[i])) {
        return error(what, "[", i, "] belongs to a different GraphBuilder than the scan's");
      }
    }
    return absl::OkStatus();
  };
  std::vector<Var> sequences;
  bool any_tap = false;
  for (const ScanSequence& seq : args.sequences) {
    sequences.push_back(seq.input);
    any_tap = any_tap || !seq.taps.empty();
  }
  if (absl::Status s = owned(sequences, "sequences"); !s.ok()) return s;
  if (absl::Status s = owned(args.non_sequences, "non_sequences"); !s.ok()) return s;
  if (absl::Status s = owned(args.states, "states"); !s.ok()) return s;
  for (size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].ndim() == 0) {
      return error("sequences[", i, "] is a scalar; scan iterates over the first dimension");
    }
  }
  for (size_t i = 0; i < args.outputs_info.size(); ++i) {
    const ScanOutput& out = args.outputs_info[i];
    if (!out.initial.valid()) continue;  // collected, not fed back
    if (absl::Status s = owned({out.initial}, absl::StrCat("outputs_info[", i, "].initial"));
        !s.ok()) {
      return s;
    }
    if (out.taps.empty()) return error("outputs_info[", i, "] has an initial state but no taps");
    for (int64_t tap : out.taps) {
      if (tap >= 0) {
        return error("outputs_info[", i, "] uses tap ", tap,
                     "; taps of outputs must be negative (past steps)");
      }
    }
    if (!IsPlainState(out) && out.initial.ndim() == 0) {
      return error("outputs_info[", i, "] uses taps [", absl::StrJoin(out.taps, ","),
                   "]: its initial state needs a leading dimension of at least ",
                   -*std::min_element(out.taps.begin(), out.taps.end()), " rows, got a scalar");
    }
  }
  if (args.n_steps.valid()) {
    if (absl::Status s = owned({args.n_steps}, "n_steps"); !s.ok()) return s;
    if (args.n_steps.ndim() != 0 || !IsInteger(args.n_steps.dtype())) {
      return error("n_steps must be an integer scalar, got ", DTypeName(args.n_steps.dtype()),
                   " of rank ", args.n_steps.ndim());
    }
    if (std::optional<int64_t> n = internal::ConstantInt(args.n_steps); n && *n < 0) {
      return error("n_steps is ", *n, "; it must be >= 0 (use go_backwards to run backwards)");
    }
  } else if (!any_tap) {
    return error("no information about the number of steps: give n_steps or a sequence");
  }
  if (args.truncate_gradient == 0 || args.truncate_gradient < -1) {
    return error("truncate_gradient is ", args.truncate_gradient,
                 "; it must be -1 (full backpropagation) or a positive number of steps");
  }
  return absl::OkStatus();
}

Layout MakeLayout(const ScanArgs& args) {
  Layout l;
  for (const ScanSequence& seq : args.sequences) {
    if (seq.taps.empty()) continue;  // not read by the step (Theano skips it too)
    // Theano's cuts: as if tap 0 were used, so that taps all below (or above) 0 do not over-cut.
    const int64_t max_tap =
        std::max<int64_t>(0, *std::max_element(seq.taps.begin(), seq.taps.end()));
    const int64_t min_tap =
        std::min<int64_t>(0, *std::min_element(seq.taps.begin(), seq.taps.end()));
    for (int64_t tap : seq.taps) {
      const int64_t start = tap - min_tap;
      Var slice = seq.input;
      if (tap != max_tap) {
        slice = GetItem(seq.input, {Slice(start, -(max_tap - tap))});
      } else if (start != 0) {
        slice = GetItem(seq.input, {Slice(start)});
      }
      l.sequences.push_back(args.go_backwards ? GetItem(slice, {Slice({}, {}, -1)}) : slice);
      l.sequence_names.push_back(TapName(seq.input.name(), tap));
    }
  }
  for (size_t i = 0; i < args.outputs_info.size(); ++i) {
    const ScanOutput& out = args.outputs_info[i];
    if (!out.initial.valid()) {
      l.collected.push_back(i);
      continue;
    }
    std::vector<int64_t> order = {-1};  // a plain state becomes a buffer of one row
    for (int d = 0; d < out.initial.ndim(); ++d) order.push_back(d);
    l.buffers.push_back(IsPlainState(out) ? Dimshuffle(out.initial, order) : out.initial);
    l.taps.push_back(out.taps);
    l.recurrent.push_back(i);
  }
  return l;
}

// The step function's placeholders in `body`, in Theano's order.
std::vector<Var> StepArgs(GraphBuilder& body, const ScanArgs& args, const Layout& l) {
  std::vector<Var> step_args;
  auto add = [&](const std::string& name, const TensorType& type) {
    step_args.push_back(
        body.Input(name, type.dtype(), {type.broadcastable().begin(), type.broadcastable().end()}));
  };
  for (size_t i = 0; i < l.sequences.size(); ++i) {
    add(l.sequence_names[i], RowType(l.sequences[i].type()));
  }
  for (size_t j = 0; j < l.buffers.size(); ++j) {
    const std::string name = args.outputs_info[l.recurrent[j]].initial.name();
    for (int64_t tap : l.taps[j]) add(TapName(name, tap), RowType(l.buffers[j].type()));
  }
  for (Var v : args.states) add(v.name(), v.type());
  for (Var v : args.non_sequences) add(v.name(), v.type());
  return step_args;
}

// Checks what the step function returned and orders it as the body's outputs: the recurrent
// outputs, the collected ones, the states' next values, then the until condition. Without
// outputs_info every value is collected: l.collected is filled here.
absl::StatusOr<std::vector<Var>> BodyOutputs(GraphBuilder& g, GraphBuilder& body,
                                             const ScanArgs& args, Layout& l,
                                             const std::vector<Var>& returned) {
  const std::string label = Label(args);
  auto error = [&](auto&&... parts) {
    return absl::InvalidArgumentError(absl::StrCat(label, ": ", parts...));
  };
  if (!body.status().ok()) {
    const bool foreign = absl::StrContains(body.status().message(), "different GraphBuilder");
    return error("the step function failed: ", body.status().message(),
                 foreign ? " (outer variables reach the step function only as non_sequences)" : "");
  }
  const size_t n_extra = args.states.size() + (args.until ? 1 : 0);
  const size_t n_values = returned.size() > n_extra ? returned.size() - n_extra : 0;
  if (!args.outputs_info.empty() && n_values != args.outputs_info.size()) {
    return error("the step function returns ", n_values, " values",
                 n_extra ? " (besides the states' next values and the until condition)" : "",
                 " but outputs_info has ", args.outputs_info.size(),
                 " entries; give an entry with no initial state for each value not fed back");
  }
  if (n_values == 0 && args.states.empty()) {
    return error("the step function returns no values",
                 args.until ? " besides the until condition" : "");
  }
  for (size_t i = 0; i < returned.size(); ++i) {
    Var v = returned[i];
    if (v.builder() == &g) {
      return error("the step function returned a variable of the outer graph as value ", i,
                   "; outer variables reach the step function only as non_sequences");
    }
    if (!v.valid() || v.builder() != &body || !body.Find(v)) {
      return error("value ", i, " the step function returned is not a variable of `body`");
    }
  }
  if (args.outputs_info.empty()) {
    for (size_t i = 0; i < n_values; ++i) l.collected.push_back(i);
  }
  std::vector<Var> outputs;
  for (size_t j = 0; j < l.recurrent.size(); ++j) {
    const size_t i = l.recurrent[j];
    const TensorType state = RowType(l.buffers[j].type());
    Var next = returned[i];
    if (next.dtype() != state.dtype()) {
      return error("outputs_info[", i, "] has dtype ", DTypeName(state.dtype()),
                   " but the step function returns ", DTypeName(next.dtype()),
                   " for it (cast one of them so they agree)");
    }
    if (next.ndim() != state.broadcastable_size()) {
      return error("outputs_info[", i, "] has ", state.broadcastable_size(),
                   " dimension(s) per step but the step function returns ", next.ndim(),
                   " dimension(s) for it");
    }
    outputs.push_back(next);
  }
  for (size_t i : l.collected) outputs.push_back(returned[i]);
  for (size_t k = 0; k < args.states.size(); ++k) {
    Var state = args.states[k], next = returned[n_values + k];
    if (next.dtype() != state.dtype() || next.ndim() != state.ndim()) {
      return error("states[", k, "] is ", DTypeName(state.dtype()), " of rank ", state.ndim(),
                   " but the step function returns ", DTypeName(next.dtype()), " of rank ",
                   next.ndim(), " for its next value");
    }
    outputs.push_back(next);
  }
  if (args.until) {
    if (returned.back().ndim() != 0) {
      return error("the until condition must be a scalar, got rank ", returned.back().ndim());
    }
    outputs.push_back(returned.back());
  }
  return outputs;
}

// The body graph; it must be closed: only the step's arguments as inputs, no shared variables.
absl::StatusOr<::tensord::v1::Graph> BuildBody(const GraphBuilder& body, const ScanArgs& args,
                                               const std::vector<Var>& step_args,
                                               const std::vector<Var>& outputs) {
  absl::StatusOr<::tensord::v1::Graph> graph = body.Build(step_args, outputs);
  if (!graph.ok()) return graph.status();
  const std::set<int64_t> arg_ids(graph->inputs().begin(), graph->inputs().end());
  for (const auto& v : graph->variables()) {
    if (v.has_shared()) {
      return absl::InvalidArgumentError(absl::StrCat(
          Label(args), ": the step function reads shared variable '", v.name(),
          "'; pass it in non_sequences (updates inside the step are not supported here)"));
    }
    if (v.has_input() && !arg_ids.contains(v.id())) {
      return absl::InvalidArgumentError(
          absl::StrCat(Label(args), ": the step function uses input '", v.name(),
                       "', which is not one of its arguments; pass outer values in non_sequences"));
    }
  }
  return graph;
}

// min(n_steps, each sequence's length): the engine takes n_steps as given.
Var ActualSteps(const ScanArgs& args, const Layout& l) {
  std::vector<Var> lengths;
  for (Var seq : l.sequences) lengths.push_back(ShapeI(seq, 0));
  if (args.n_steps.valid()) lengths.push_back(args.n_steps);
  Var steps = lengths.front();
  for (size_t i = 1; i < lengths.size(); ++i) steps = Minimum(steps, lengths[i]);
  return steps;
}

AttrMap ScanAttrs(const ScanArgs& args, const Layout& l) {
  std::vector<int64_t> taps, counts;
  for (const auto& t : l.taps) {
    taps.insert(taps.end(), t.begin(), t.end());
    counts.push_back(static_cast<int64_t>(t.size()));
  }
  AttrMap attrs = {{"n_seqs", IntAttr(static_cast<int64_t>(l.sequences.size()))},
                   {"mit_sot_taps", IntsAttr(taps)},
                   {"mit_sot_tap_counts", IntsAttr(counts)},
                   {"n_nit_sot", IntAttr(static_cast<int64_t>(l.collected.size()))},
                   {"n_shared_outs", IntAttr(static_cast<int64_t>(args.states.size()))},
                   {"truncate_gradient", IntAttr(args.truncate_gradient)},
                   {"until", BoolAttr(args.until)}};
  if (!args.name.empty()) attrs["name"] = StringAttr(args.name);
  if (!args.mode.empty()) attrs["mode"] = StringAttr(args.mode);
  return attrs;
}

// The stacked output types: (False,) + the step's pattern (ANDed with the state's if fed back);
// then the states' own types.
std::vector<TensorType> OutputTypes(const ScanArgs& args, const Layout& l,
                                    const std::vector<Var>& body_outputs) {
  std::vector<TensorType> types;
  for (size_t k = 0; k < l.recurrent.size() + l.collected.size(); ++k) {
    const std::vector<bool> step = body_outputs[k].broadcastable();
    std::vector<bool> stacked = {false};
    DType dtype = body_outputs[k].dtype();
    for (size_t d = 0; d < step.size(); ++d) {
      bool b = step[d];
      if (k < l.recurrent.size()) b = b && l.buffers[k].broadcastable()[d + 1];
      stacked.push_back(b);
    }
    if (k < l.recurrent.size()) dtype = l.buffers[k].dtype();
    types.push_back(internal::MakeType(dtype, stacked));
  }
  for (Var state : args.states) types.push_back(state.type());
  return types;
}

}  // namespace

std::vector<Var> Scan(GraphBuilder& g, const ScanArgs& args, const ScanStep& fn) {
  std::vector<Var> results(args.outputs_info.size() + args.states.size());
  if (!g.status().ok()) return results;
  if (absl::Status s = CheckArgs(g, args); !s.ok()) {
    g.Fail(s);
    return results;
  }
  if (!fn) {
    g.Fail(absl::InvalidArgumentError(Label(args) + ": no step function"));
    return results;
  }
  Layout l = MakeLayout(args);
  GraphBuilder body(g.float_x());
  const std::vector<Var> step_args = StepArgs(body, args, l);
  const std::vector<Var> returned = fn(body, step_args);
  // An outer op that mixed in a body variable recorded its error on `g` already.
  if (!g.status().ok()) return results;
  absl::StatusOr<std::vector<Var>> body_outputs = BodyOutputs(g, body, args, l, returned);
  absl::StatusOr<::tensord::v1::Graph> graph =
      body_outputs.ok() ? BuildBody(body, args, step_args, *body_outputs) : body_outputs.status();
  if (!graph.ok()) {
    g.Fail(graph.status());
    return results;
  }
  std::vector<Var> inputs = {ActualSteps(args, l)};
  inputs.insert(inputs.end(), l.sequences.begin(), l.sequences.end());
  inputs.insert(inputs.end(), l.buffers.begin(), l.buffers.end());
  inputs.insert(inputs.end(), args.states.begin(), args.states.end());
  inputs.insert(inputs.end(), args.non_sequences.begin(), args.non_sequences.end());
  std::vector<::tensord::v1::Graph> bodies;
  bodies.push_back(*std::move(graph));
  std::vector<Var> outputs = g.Apply("scan", inputs, ScanAttrs(args, l),
                                     OutputTypes(args, l, *body_outputs), std::move(bodies));
  if (!g.status().ok()) return results;
  if (args.outputs_info.empty()) return outputs;
  for (size_t k = 0; k < l.recurrent.size(); ++k) results[l.recurrent[k]] = outputs[k];
  const size_t n_stacked = l.recurrent.size() + l.collected.size();
  for (size_t k = 0; k < l.collected.size(); ++k) {
    results[l.collected[k]] = outputs[l.recurrent.size() + k];
  }
  for (size_t k = 0; k < args.states.size(); ++k) {
    results[args.outputs_info.size() + k] = outputs[n_stacked + k];
  }
  return results;
}

}  // namespace tensord::client
