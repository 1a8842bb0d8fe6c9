// How a scan node's inputs, body inputs, body outputs and outputs are laid out (the wire
// contract in docs/wire-protocol.md, "scan"), parsed once from its attributes so the type rule,
// the kernel and the gradient index them the same way.
#pragma once

#include <string>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"

namespace tensord::ops {

struct ScanLayout {
  int n_seqs = 0;
  int n_mit = 0;     // recurrent outputs (Theano's mit-sot and sit-sot)
  int n_nit = 0;     // outputs not fed back
  int n_shared = 0;  // final-only states (shared-variable updates inside the step)
  int n_non_seqs = 0;
  std::vector<std::vector<int64_t>> taps;  // per recurrent output, all < 0
  std::vector<int> tap_offset;             // index of each output's first tap among all taps
  int total_taps = 0;
  int64_t truncate_gradient = -1;
  bool until = false;
  std::string name;  // "" prints as scan_fn
  std::string mode;  // the body's compile mode; "" = the function's

  // Rows of initial state output j needs: -min(taps).
  int64_t InitRows(int j) const;
  // "scan 'name'" (or "scan") for messages.
  std::string Label() const;

  // Outer inputs.
  int SeqInput(int i) const { return 1 + i; }
  int InitInput(int j) const { return 1 + n_seqs + j; }
  int SharedInput(int k) const { return 1 + n_seqs + n_mit + k; }
  int NonSeqInput(int k) const { return 1 + n_seqs + n_mit + n_shared + k; }
  int NumInputs() const { return 1 + n_seqs + n_mit + n_shared + n_non_seqs; }
  // Body inputs.
  int BodySeq(int i) const { return i; }
  int BodyTap(int j, int k) const { return n_seqs + tap_offset[j] + k; }
  int BodyShared(int k) const { return n_seqs + total_taps + k; }
  int BodyNonSeq(int k) const { return n_seqs + total_taps + n_shared + k; }
  int NumBodyInputs() const { return n_seqs + total_taps + n_shared + n_non_seqs; }
  // Body outputs (and, for the first n_mit + n_nit + n_shared, outer outputs).
  int OutMit(int j) const { return j; }
  int OutNit(int k) const { return n_mit + k; }
  int OutShared(int k) const { return n_mit + n_nit + k; }
  int NumOuterOutputs() const { return n_mit + n_nit + n_shared; }
  int NumBodyOutputs() const { return NumOuterOutputs() + (until ? 1 : 0); }
};

// Parses and checks the attributes against the node's input count (not the types).
absl::StatusOr<ScanLayout> ParseScanLayout(const ir::Apply& node);

// scan_grad (engine/grad/scan_rule.cc): the forward scan's attributes and inputs, then its
// recurrent outputs, the gradients flagged in `mit_sot_grads` / `nit_sot_grads`, and the
// per-step values of the shared states flagged in `shared_histories`.
struct ScanGradLayout {
  ScanLayout forward;
  std::vector<int64_t> mit_grads, nit_grads, shared_histories;  // one 0/1 flag per output/state

  int ForwardOutput(int j) const { return forward.NumInputs() + j; }
  int FirstOutputGrad() const { return forward.NumInputs() + forward.n_mit; }
};
absl::StatusOr<ScanGradLayout> ParseScanGradLayout(const ir::Apply& node);

// The scan attributes of a layout (what ParseScanLayout reads), for nodes built by rules.
ir::Attrs ScanAttrs(const ScanLayout& layout);

// A body must be self-contained: every input variable listed among its inputs, no shared
// variables (the client passes them in as non-sequences or shared outs).
absl::Status CheckBodyIsClosed(const ir::Graph& body, const std::string& label);

// The type of scan_grad's gradient for a variable of type `t`: `t` for floats, else float64 (a
// zero that the grad rule drops).
DType GradDType(DType d);
ir::Type GradType(const ir::Type& t);

// `t` without its leading dim (a sequence's or initial buffer's row type).
ir::Type RowType(const ir::Type& t);
// `t` with a leading non-broadcastable dim (the stacked outputs).
ir::Type StackedType(const ir::Type& t);

}  // namespace tensord::ops
