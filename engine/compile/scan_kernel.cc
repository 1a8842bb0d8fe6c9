#include "engine/compile/scan_kernel.h"

#include "engine/backends/cpu/value_moves.h"
#include "engine/backends/cuda/provider/value_moves.h"
#include "engine/compile/modes.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/scan_layout.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {
namespace {

using runtime::Shape;
using runtime::Tensor;

Shape RowShape(const Tensor& t) { return Shape(t.shape().begin() + 1, t.shape().end()); }

// Row `i` of `t` (a view: no copy).
Tensor Row(const Tensor& t, int64_t i) {
  return t.StridedView(RowShape(t), runtime::Strides(t.strides().begin() + 1, t.strides().end()),
                       i * t.strides()[0]);
}

// Rows [0, n) of `t` (a view).
Tensor FirstRows(const Tensor& t, int64_t n) {
  Shape shape = t.shape();
  shape[0] = n;
  return t.StridedView(shape, t.strides(), 0);
}

absl::Status ShapeMismatch(const std::string& label, int64_t t, const std::string& what,
                           const Shape& got, const Shape& want) {
  return InvalidArgument(label, " step ", t, ": the step function returned shape ",
                         runtime::ShapeString(got), " for ", what, ", which has shape ",
                         runtime::ShapeString(want));
}

// What scan and scan_grad share: the compiled body and the checks on their common inputs.
class BodyKernel : public backends::Kernel {
 protected:
  BodyKernel(ops::ScanLayout layout, std::shared_ptr<Executable> body,
             std::shared_ptr<backends::ValueMoves> moves)
      : l_(std::move(layout)),
        label_(l_.Label()),
        body_(std::move(body)),
        moves_(std::move(moves)) {}

  // n_steps, checked against the sequences and initial states.
  absl::StatusOr<int64_t> Steps(std::span<const Tensor* const> in) const {
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ops::ReadInt(*in[0], "n_steps"));
    if (n < 0) {
      return InvalidArgument(label_, ": n_steps is ", n,
                             "; a scan cannot run a negative number of steps");
    }
    for (int i = 0; i < l_.n_seqs; ++i) {
      const Tensor& seq = *in[l_.SeqInput(i)];
      if (seq.shape()[0] < n) {
        return InvalidArgument(label_, ": sequence ", i, " has ", seq.shape()[0],
                               " rows but the scan runs ", n, " steps");
      }
    }
    for (int j = 0; j < l_.n_mit; ++j) {
      const Tensor& init = *in[l_.InitInput(j)];
      if (init.shape()[0] < l_.InitRows(j)) {
        return InvalidArgument(label_, ": the initial state of recurrent output ", j, " has ",
                               init.shape()[0], " rows but its taps need ", l_.InitRows(j));
      }
    }
    return n;
  }

  // The forward body's inputs at step t; `outs[j]` holds recurrent output j's rows so far.
  void StepInputs(std::span<const Tensor* const> in, const std::vector<const Tensor*>& outs,
                  const std::vector<Tensor>& shared, int64_t t, std::vector<Tensor>& args) const {
    args.resize(l_.NumBodyInputs());
    for (int i = 0; i < l_.n_seqs; ++i) args[l_.BodySeq(i)] = Row(*in[l_.SeqInput(i)], t);
    for (int j = 0; j < l_.n_mit; ++j) {
      for (size_t k = 0; k < l_.taps[j].size(); ++k) {
        const int64_t pos = t + l_.taps[j][k];
        args[l_.BodyTap(j, static_cast<int>(k))] =
            pos < 0 ? Row(*in[l_.InitInput(j)], l_.InitRows(j) + pos) : Row(*outs[j], pos);
      }
    }
    for (int k = 0; k < l_.n_shared; ++k) args[l_.BodyShared(k)] = shared[k];
    for (int k = 0; k < l_.n_non_seqs; ++k) args[l_.BodyNonSeq(k)] = *in[l_.NonSeqInput(k)];
  }

  absl::StatusOr<RunResult> RunStep(std::vector<Tensor> args, int64_t t) const {
    // n_steps is the request's to choose: a run past its deadline or abandoned by its client
    // stops here (every 64 steps, to keep the clock read off the per-step cost).
    if (t % 64 == 63) {
      absl::Status interrupted = runtime::CheckInterrupted();
      if (!interrupted.ok()) {
        return absl::Status(interrupted.code(),
                            absl::StrCat(label_, " step ", t, ": ", interrupted.message()));
      }
    }
    absl::StatusOr<RunResult> r = body_->Run(std::move(args), {});
    if (!r.ok()) {
      return absl::Status(r.status().code(),
                          absl::StrCat(label_, " step ", t, ": ", r.status().message()));
    }
    return r;
  }

  const ops::ScanLayout l_;
  const std::string label_;
  const std::shared_ptr<Executable> body_;
  // Where the scan runs: copies, sums and zeros in the host's memory or a GPU's.
  const std::shared_ptr<backends::ValueMoves> moves_;
};

class ScanKernel final : public BodyKernel {
 public:
  ScanKernel(ops::ScanLayout layout, std::shared_ptr<Executable> body,
             std::shared_ptr<backends::ValueMoves> moves)
      : BodyKernel(std::move(layout), std::move(body), std::move(moves)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(const int64_t n, Steps(in));
    std::vector<const Tensor*> mit_outs;
    for (int j = 0; j < l_.n_mit; ++j) {
      const Tensor& init = *in[l_.InitInput(j)];
      Shape shape = init.shape();
      shape[0] = n;
      TENSORD_RETURN_IF_ERROR(out[l_.OutMit(j)]->Reshape(init.dtype(), shape));
      mit_outs.push_back(out[l_.OutMit(j)]);
    }
    std::vector<Tensor> shared;
    for (int k = 0; k < l_.n_shared; ++k) shared.push_back(*in[l_.SharedInput(k)]);
    std::vector<Tensor> args;
    int64_t steps = n;
    for (int64_t t = 0; t < n; ++t) {
      StepInputs(in, mit_outs, shared, t, args);
      TENSORD_ASSIGN_OR_RETURN(RunResult r, RunStep(args, t));
      for (int j = 0; j < l_.n_mit; ++j) {
        const Tensor& value = r.outputs[l_.OutMit(j)];
        Tensor row = Row(*out[l_.OutMit(j)], t);
        if (value.shape() != row.shape()) {
          return ShapeMismatch(label_, t, absl::StrCat("recurrent output ", j, " whose state"),
                               value.shape(), row.shape());
        }
        TENSORD_RETURN_IF_ERROR(moves_->Copy(value, row));
      }
      for (int k = 0; k < l_.n_nit; ++k) {
        const Tensor& value = r.outputs[l_.OutNit(k)];
        Tensor& stacked = *out[l_.OutNit(k)];
        if (t == 0) {
          Shape shape{n};
          shape.insert(shape.end(), value.shape().begin(), value.shape().end());
          TENSORD_RETURN_IF_ERROR(stacked.Reshape(value.dtype(), shape));
        } else if (RowShape(stacked) != value.shape()) {
          return ShapeMismatch(label_, t, absl::StrCat("output ", l_.OutNit(k), " (step 0"),
                               value.shape(), RowShape(stacked));
        }
        TENSORD_RETURN_IF_ERROR(moves_->Copy(value, Row(stacked, t)));
      }
      for (int k = 0; k < l_.n_shared; ++k) shared[k] = r.outputs[l_.OutShared(k)];
      if (l_.until) {
        TENSORD_ASSIGN_OR_RETURN(bool stop, moves_->Truthy(r.outputs.back()));
        if (stop) {
          steps = t + 1;
          break;
        }
      }
    }
    if (n == 0) {
      // No step ran, so no step told the non-recurrent outputs' shapes: (0, 0, ...), with 1
      // where the step's type is broadcastable (a 0 there would contradict the output's type).
      for (int k = 0; k < l_.n_nit; ++k) {
        const ir::Type& type = body_->output_types()[l_.OutNit(k)];
        Shape shape(type.ndim() + 1, 0);
        for (int d = 0; d < type.ndim(); ++d) shape[d + 1] = type.broadcastable[d] ? 1 : 0;
        TENSORD_RETURN_IF_ERROR(out[l_.OutNit(k)]->Reshape(type.dtype, shape));
      }
    }
    if (steps < n) {
      for (int k = 0; k < l_.n_mit + l_.n_nit; ++k) *out[k] = FirstRows(*out[k], steps);
    }
    for (int k = 0; k < l_.n_shared; ++k) *out[l_.OutShared(k)] = shared[k];
    return absl::OkStatus();
  }
};

// Backpropagation through time (the layout is in engine/grad/scan_rule.cc). For each recurrent
// output, `pending` holds the gradient of every state from t = -L to n - 1; walking back, the
// state at t has received every contribution (taps only look back) when step t runs, which
// adds the step's contributions to the states it read.
class ScanGradKernel final : public BodyKernel {
 public:
  ScanGradKernel(ops::ScanGradLayout layout, std::shared_ptr<Executable> body,
                 std::shared_ptr<backends::ValueMoves> moves)
      : BodyKernel(layout.forward, std::move(body), std::move(moves)), flags_(std::move(layout)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(const int64_t n, Steps(in));
    const int64_t back = l_.truncate_gradient < 0 ? n : std::min(n, l_.truncate_gradient);
    int next = l_.NumInputs();
    std::vector<const Tensor*> fwd_outs;
    for (int j = 0; j < l_.n_mit; ++j) {
      const Tensor* o = in[next++];
      Shape want = in[l_.InitInput(j)]->shape();
      want[0] = n;
      if (o->shape() != want) {
        return InvalidArgument(label_, " gradient: recurrent output ", j, " has shape ",
                               runtime::ShapeString(o->shape()), ", expected ",
                               runtime::ShapeString(want));
      }
      fwd_outs.push_back(o);
    }
    std::vector<Tensor> pending(l_.n_mit);
    for (int j = 0; j < l_.n_mit; ++j) {
      Shape shape = fwd_outs[j]->shape();
      shape[0] = l_.InitRows(j) + n;
      TENSORD_RETURN_IF_ERROR(
          moves_->Zeros(ops::GradDType(fwd_outs[j]->dtype()), shape, pending[j]));
      if (!flags_.mit_grads[j]) continue;
      const Tensor* g = in[next++];
      if (g->shape() != fwd_outs[j]->shape()) {
        return InvalidArgument(label_, " gradient: the gradient of recurrent output ", j,
                               " has shape ", runtime::ShapeString(g->shape()), ", expected ",
                               runtime::ShapeString(fwd_outs[j]->shape()));
      }
      Shape rows = g->shape();
      TENSORD_RETURN_IF_ERROR(
          moves_->Copy(*g, pending[j].StridedView(rows, pending[j].strides(),
                                                  l_.InitRows(j) * pending[j].strides()[0])));
    }
    std::vector<const Tensor*> nit_g;
    for (int k = 0; k < l_.n_nit; ++k) {
      if (!flags_.nit_grads[k]) continue;
      const Tensor* g = in[next++];
      if (g->ndim() == 0 || g->shape()[0] < n) {
        return InvalidArgument(label_, " gradient: the gradient of output ", l_.OutNit(k),
                               " has shape ", runtime::ShapeString(g->shape()),
                               " but the scan ran ", n, " steps");
      }
      nit_g.push_back(g);
    }
    // Outputs: gradients of the sequences, initial states and non-sequences, zero where no
    // step contributes (rows past n_steps, steps cut by truncate_gradient).
    for (int i = 0; i < l_.n_seqs; ++i) {
      const Tensor& seq = *in[l_.SeqInput(i)];
      TENSORD_RETURN_IF_ERROR(moves_->Zeros(ops::GradDType(seq.dtype()), seq.shape(), *out[i]));
    }
    for (int j = 0; j < l_.n_mit; ++j) {
      const Tensor& init = *in[l_.InitInput(j)];
      TENSORD_RETURN_IF_ERROR(
          moves_->Zeros(ops::GradDType(init.dtype()), init.shape(), *out[l_.n_seqs + j]));
    }
    for (int k = 0; k < l_.n_non_seqs; ++k) {
      const Tensor& x = *in[l_.NonSeqInput(k)];
      TENSORD_RETURN_IF_ERROR(
          moves_->Zeros(ops::GradDType(x.dtype()), x.shape(), *out[l_.n_seqs + l_.n_mit + k]));
    }
    // Shared states: their per-step values where the gradient body reads them (stacked by a
    // replay of the forward scan), else the initial value, which the body then ignores.
    std::vector<const Tensor*> histories(l_.n_shared, nullptr);
    for (int k = 0; k < l_.n_shared; ++k) {
      if (!flags_.shared_histories[k]) continue;
      histories[k] = in[next++];
      if (histories[k]->shape()[0] < n) {
        return InvalidArgument(label_, " gradient: the history of shared state ", k, " has ",
                               histories[k]->shape()[0], " rows but the scan ran ", n, " steps");
      }
    }
    std::vector<Tensor> shared;
    for (int k = 0; k < l_.n_shared; ++k) shared.push_back(*in[l_.SharedInput(k)]);
    std::vector<Tensor> args;
    for (int64_t t = n - 1; t >= n - back; --t) {
      for (int k = 0; k < l_.n_shared; ++k)
        if (histories[k] != nullptr) shared[k] = Row(*histories[k], t);
      StepInputs(in, fwd_outs, shared, t, args);
      for (int j = 0; j < l_.n_mit; ++j) args.push_back(Row(pending[j], l_.InitRows(j) + t));
      for (const Tensor* g : nit_g) args.push_back(Row(*g, t));
      TENSORD_ASSIGN_OR_RETURN(RunResult r, RunStep(std::move(args), t));
      args.clear();
      int o = 0;
      for (int i = 0; i < l_.n_seqs; ++i, ++o) {
        TENSORD_RETURN_IF_ERROR(Accumulate(r.outputs[o], Row(*out[i], t), t, "a sequence"));
      }
      for (int j = 0; j < l_.n_mit; ++j) {
        for (int64_t tap : l_.taps[j]) {
          TENSORD_RETURN_IF_ERROR(
              Accumulate(r.outputs[o++], Row(pending[j], l_.InitRows(j) + t + tap), t, "a state"));
        }
      }
      for (int k = 0; k < l_.n_non_seqs; ++k, ++o) {
        TENSORD_RETURN_IF_ERROR(
            Accumulate(r.outputs[o], *out[l_.n_seqs + l_.n_mit + k], t, "a non-sequence"));
      }
    }
    if (back == n) {
      for (int j = 0; j < l_.n_mit; ++j) {
        TENSORD_RETURN_IF_ERROR(moves_->Copy(FirstRows(pending[j], l_.InitRows(j)),
                                             FirstRows(*out[l_.n_seqs + j], l_.InitRows(j))));
      }
    }
    return absl::OkStatus();
  }

 private:
  absl::Status Accumulate(const Tensor& grad, Tensor dst, int64_t t, const char* what) const {
    if (grad.shape() != dst.shape()) {
      return InvalidArgument(label_, " gradient step ", t, ": the gradient of ", what,
                             " has shape ", runtime::ShapeString(grad.shape()), ", expected ",
                             runtime::ShapeString(dst.shape()));
    }
    return moves_->Add(grad, dst);
  }

  const ops::ScanGradLayout flags_;
};

absl::StatusOr<std::shared_ptr<Executable>> CompileBody(const ir::Graph& body,
                                                        CompileOptions options,
                                                        const std::string& mode,
                                                        const context::Context* on) {
  if (!mode.empty()) options.mode = mode;
  options.shared_context.clear();
  // A body runs once per step: its frame keeps one step's intermediates for the next step
  // instead of taking them from the allocator each time (Theano's scan.allow_gc=False).
  options.keep_intermediates = true;
  if (on != nullptr && on->kind == context::DeviceKind::kCuda) {
    // On a GPU the body is placed there: its inputs are the scan's values on the device, its
    // outputs stay there, its nodes run on the CUDA provider (what it reads on the host moves
    // there, as in any function).
    options.context = on;
    options.body_context = on->name;
  } else {
    // Elsewhere the body runs where its scan node runs (under the scan instruction's memory
    // scope): its inputs and outputs are that node's values, not host values to move.
    options.contexts = nullptr;
  }
  TENSORD_ASSIGN_OR_RETURN(PreparedFunction p,
                           PrepareFunction(body.Clone(), {}, {}, std::move(options)));
  return BuildExecutable(std::move(p));
}

std::shared_ptr<backends::ValueMoves> MovesOn(const context::Context* on) {
  if (on != nullptr && on->kind == context::DeviceKind::kCuda) {
    return cuda::DeviceValueMoves(on->runtime);
  }
  return std::shared_ptr<backends::ValueMoves>(&cpu::HostValueMoves(),
                                               [](backends::ValueMoves*) {});
}

}  // namespace

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeBodyKernel(const ir::Apply& node,
                                                                 const CompileOptions& options,
                                                                 const context::Context* on) {
  if (node.op == "scan") {
    TENSORD_ASSIGN_OR_RETURN(ops::ScanLayout l, ops::ParseScanLayout(node));
    TENSORD_ASSIGN_OR_RETURN(auto body, CompileBody(*node.bodies[0], options, l.mode, on));
    return std::make_unique<ScanKernel>(std::move(l), std::move(body), MovesOn(on));
  }
  if (node.op == "scan_grad") {
    TENSORD_ASSIGN_OR_RETURN(ops::ScanGradLayout l, ops::ParseScanGradLayout(node));
    TENSORD_ASSIGN_OR_RETURN(auto body, CompileBody(*node.bodies[0], options, l.forward.mode, on));
    return std::make_unique<ScanGradKernel>(std::move(l), std::move(body), MovesOn(on));
  }
  return Unimplemented("op '", node.op, "' has bodies but no kernel");
}

}  // namespace tensord::compile
