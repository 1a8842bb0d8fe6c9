// Theano's scan: a loop whose step function is a graph, run by the server (one `scan` apply;
// docs/wire-protocol.md, "scan").
//
//   GraphBuilder g(kFloat64);
//   Var x = g.Vector("x"), acc0 = g.Scalar("acc0");
//   ScanArgs args;
//   args.sequences = {x};
//   args.outputs_info = {{acc0}};
//   // cumulative sum: the step gets x[t] and the previous sum, returns the new sum
//   std::vector<Var> sums = Scan(g, args, [](GraphBuilder&, const std::vector<Var>& a) {
//     return std::vector<Var>{a[0] + a[1]};
//   });
//
// The step function is called once, with placeholders, to build the step graph in a builder of
// its own (`body`). It may only use its arguments, constants and ops on them: outer values
// (weights ...) reach it as non_sequences, as in Theano; using an outer Var inside is an error.
// Session::Grad differentiates through a scan (the server adds a `scan_grad` node: backpropagation
// through time, honouring truncate_gradient).
#ifndef TENSORD_CLIENT_OPS_SCAN_H_
#define TENSORD_CLIENT_OPS_SCAN_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tensord/graph.h"

namespace tensord::client {

// One entry of Theano's outputs_info.
struct ScanOutput {
  // The state before the first step; invalid (the default) means Theano's None: the step's value
  // is collected but not fed back.
  Var initial;
  // Past steps the step function reads, all negative. With the default {-1}, `initial` is the
  // state itself; otherwise it holds the -min(taps) states before the first step, one per row
  // (the oldest first), as in Theano.
  std::vector<int64_t> taps = {-1};
};

// One entry of Theano's sequences: iterated over its first dimension. Tap k gives the step at
// time t the row t + k (taps may be negative or positive); the default {0} is row t. With taps
// reaching back or ahead, the loop runs fewer steps than the sequence has rows, as in Theano.
struct ScanSequence {
  ScanSequence(Var input) : input(input) {}  // implicit: a plain Var is a sequence with tap 0
  ScanSequence(Var input, std::vector<int64_t> taps) : input(input), taps(std::move(taps)) {}

  Var input;
  std::vector<int64_t> taps = {0};
};

struct ScanArgs {
  std::vector<ScanSequence> sequences;
  // One entry per value the step function returns. Empty: every value is collected, none fed
  // back (Theano's outputs_info=None).
  std::vector<ScanOutput> outputs_info;
  // Passed unchanged to every step.
  std::vector<Var> non_sequences;
  // Final-only states (what Theano's scan makes of shared variables fn updates): each is given to
  // the step as its current value, the step returns its next value, and Scan returns its value
  // after the last step (e.g. for an update of a shared variable). Any variables of `g`.
  std::vector<Var> states;
  // An integer 0-d Var; the loop runs min(n_steps, every sequence's length) steps. Invalid (the
  // default): the sequences' length. Required without sequences.
  Var n_steps;
  // -1: gradients through every step; k > 0: through the last k steps only.
  int64_t truncate_gradient = -1;
  // Iterate over the sequences from their last row to their first.
  bool go_backwards = false;
  // With until, the step function returns one more value, last: a 0-d condition; the loop stops
  // after the first step where it is true (Theano's scan_module.until). Such a scan has no
  // gradient.
  bool until = false;
  std::string name;  // for messages, printing and profiles ("" = scan_fn)
  std::string mode;  // the mode the step is compiled with ("" = the function's)
};

// Builds one step in `body` from its arguments in Theano's order: each sequence's taps (in
// `taps` order), each fed-back output's taps, each state's current value, then the
// non-sequences. Returns one Var of `body` per outputs_info entry, then each state's next value,
// then, with `until`, the condition.
using ScanStep = std::function<std::vector<Var>(GraphBuilder& body, const std::vector<Var>& args)>;

// Returns one Var of `g` per outputs_info entry (per returned value when outputs_info is
// empty): the step's values stacked over the steps (the initial rows not included); then each
// state's final value. On an error (recorded on `g`, sticky) the Vars are invalid; the vector
// has outputs_info.size() + states.size() entries then.
std::vector<Var> Scan(GraphBuilder& g, const ScanArgs& args, const ScanStep& fn);

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_SCAN_H_
