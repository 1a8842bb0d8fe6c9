// A compiled function: a flat list of instructions over numbered buffer slots, with kernels
// bound at compile time. Running it never walks the graph; frames (slot arrays) are pooled.
// A run drops each intermediate after its last reader (drop_plan.h), so steady-state runs take
// their buffers from the allocator's cache; with keep_intermediates a frame keeps them instead.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"
#include "engine/ops/op_def.h"
#include "engine/runtime/memory_stats.h"

namespace tensord::compile {

struct Instruction {
  std::unique_ptr<backends::Kernel> kernel;
  std::vector<int> inputs;   // slot numbers
  std::vector<int> outputs;  // slot numbers
  std::string label;         // "add(x, y)" for error messages
  // Theano's names, for profiles: "Elemwise{add,no_inplace}" and "Elemwise{add,no_inplace}(x, y)".
  std::string op_name;
  std::string theano_label;
  // Inplace (engine/compile/inplace_plan.h): the input whose buffer the output may take when it
  // is free at run time (-1: none), and whether the kernel checks aliasing itself.
  int donate = -1;
  bool donate_checks_aliasing = false;
  // Slots dead once this instruction has run (or been skipped), dropped then so that their
  // memory serves later nodes (drop_plan.h); empty when the function keeps its intermediates.
  std::vector<int> drops;
  // Lazy ifelse: the instruction runs only when every (ifelse number, branch) holds, branch 0
  // being the then side and 1 the else side. Outer ifelses come first, so checking them in order
  // never reads the condition of an ifelse whose own condition was skipped.
  std::vector<std::pair<int, int>> guards;
  // The device context the node runs on (placement), whose memory its output buffers are
  // charged to; null: the run's context.
  runtime::MemoryCounter* memory = nullptr;
  // A CUDA context's runtime (null elsewhere): a profiled run times the node's kernels there
  // (DeviceRuntime::Mark), not their launch on the host.
  std::shared_ptr<cuda::DeviceRuntime> device;
};

struct SlotBinding {
  int slot = 0;
  ir::Type type;
  std::string name;
  std::string label;  // "input 0 ('x')" for errors, built once so Run does not format it
};

// One output of an instruction as a run left it (profile_memory). The buffer address only
// identifies the buffer (views and inplace outputs share their input's); it is never read.
struct OutputMemory {
  const void* buffer = nullptr;
  int64_t buffer_bytes = 0;  // the whole buffer's size
  int64_t bytes = 0;         // this output's elements
  runtime::Shape shape;
  char kind = 'c';  // c: a buffer of its own, i: an input's buffer taken (inplace), v: a view
};

// Per-instruction timings of one run (profile=True): steady_clock nanoseconds, starts relative
// to the run's start; instructions not reached (a failed run) keep -1.
struct RunTrace {
  std::vector<int64_t> start_ns;  // on the host, from the run's start
  std::vector<int64_t> duration_ns;
  // Per instruction: its duration is the device's (its kernels between two marks on a GPU),
  // measured once the run's work is done; else the host's.
  std::vector<bool> device_timed;
  // Set before the run to also record memory (profile_memory): each instruction's outputs
  // (empty for one not run) and the buffers bound before the first one (inputs, shared values).
  bool record_memory = false;
  std::vector<std::vector<OutputMemory>> outputs;
  std::vector<std::pair<const void*, int64_t>> bound_buffers;
};

// One optimizer pass as it ran when this executable was built (profile_optimizer).
struct OptimizerPassTime {
  std::string name;
  bool changed = false;
  int64_t duration_ns = 0;
};

struct RunResult {
  std::vector<runtime::Tensor> outputs;
  std::vector<runtime::Tensor> updates;  // new values, in the order of update_targets()
};

class Executable;

// Something a mode puts in place of Executable::Run (DebugMode runs the unoptimized twin too and
// compares, engine/compile/debug_mode.h). The executable knows no mode, only this hook.
class RunInterceptor {
 public:
  virtual ~RunInterceptor() = default;
  virtual absl::StatusOr<RunResult> Run(
      const Executable& exe, std::vector<runtime::Tensor> inputs,
      const std::vector<runtime::Tensor>& shared_values) const = 0;
  virtual size_t ApproximateBytes() const = 0;
};

// A check of every instruction's outputs after it runs (NanGuardMode's, nan_guard.h); `label`
// names the instruction for the error.
using OutputCheck = std::function<absl::Status(const std::string& label,
                                               std::span<runtime::Tensor* const> outputs)>;

class Executable {
 public:
  Executable();
  ~Executable();

  // Runs with the caller's inputs (checked against their types, cast where allowed) and the
  // current values of the shared variables, in shared_params() order. With `trace`, times every
  // instruction (intercepted runs are not timed: the trace stays empty); without, the only cost
  // is one branch per run.
  absl::StatusOr<RunResult> Run(std::vector<runtime::Tensor> inputs,
                                const std::vector<runtime::Tensor>& shared_values,
                                RunTrace* trace = nullptr) const;
  // Run without the interceptor (what the interceptor itself calls).
  absl::StatusOr<RunResult> RunUnchecked(std::vector<runtime::Tensor> inputs,
                                         const std::vector<runtime::Tensor>& shared_values,
                                         RunTrace* trace = nullptr) const;

  // Set by the mode the function was compiled in (engine/compile/modes.h), before any run.
  void SetOutputCheck(OutputCheck check) { output_check_ = std::move(check); }
  void SetInterceptor(std::shared_ptr<const RunInterceptor> interceptor) {
    interceptor_ = std::move(interceptor);
  }
  const RunInterceptor* interceptor() const { return interceptor_.get(); }

  const std::vector<SlotBinding>& input_params() const { return inputs_; }
  const std::vector<SlotBinding>& shared_params() const { return shared_; }
  const std::vector<ir::Type>& output_types() const { return output_types_; }
  // Where values live (placement's contexts; "" is host memory). An output on a device stays
  // there after the run (the server hands the client a reference). An input whose every reader
  // is a transfer to one device context names it: a value already on that device binds as it
  // is, and the transfers move nothing.
  const std::vector<std::string>& output_contexts() const { return output_contexts_; }
  const std::vector<std::string>& input_contexts() const { return input_contexts_; }
  // For each update, the index into shared_params() it writes.
  const std::vector<int>& update_targets() const { return update_targets_; }
  // The slots holding outputs and update values (they live past the run).
  const std::vector<int>& output_slots() const { return output_slots_; }
  const std::vector<int>& update_slots() const { return update_slots_; }
  // Theano's allow_gc=False (CompileOptions::keep_intermediates): intermediates live until the
  // run ends and idle frames keep their buffers; otherwise each is dropped after its last reader.
  bool keeps_intermediates() const { return keep_intermediates_; }
  const ir::Graph& graph() const { return *graph_; }
  const std::string& fingerprint() const { return fingerprint_; }
  int node_count() const { return static_cast<int>(instructions_.size()); }
  const std::vector<Instruction>& instructions() const { return instructions_; }
  int64_t compile_ns() const { return compile_ns_; }
  // Time in the optimizer (part of compile_ns) and the graph's size before it ran.
  int64_t optimizer_ns() const { return optimizer_ns_; }
  int nodes_before_optimization() const { return nodes_before_optimization_; }
  // Parts of compile_ns: type-checking the prepared graph (Theano's validate time) and
  // instruction selection with slot, lazy-ifelse and inplace planning (its linker time).
  int64_t validate_ns() const { return validate_ns_; }
  int64_t linker_ns() const { return linker_ns_; }
  const std::vector<OptimizerPassTime>& optimizer_passes() const { return optimizer_passes_; }
  // Rough resident size, for the cache's accounting.
  size_t ApproximateBytes() const;

 private:
  friend class ExecutableBuilder;
  struct Frame;

  std::unique_ptr<Frame> AcquireFrame() const;
  void ReleaseFrame(std::unique_ptr<Frame> frame) const;
  static void DropDeadSlots(const Instruction& ins, Frame& frame);
  template <bool kTimed>
  absl::Status RunInstructions(Frame& frame, RunTrace* trace) const;
  absl::Status BindInput(size_t index, runtime::Tensor value, runtime::Tensor& slot) const;

  std::unique_ptr<ir::Graph> graph_;
  std::vector<Instruction> instructions_;
  // Lazy ifelse: the condition slot of each ifelse that guards instructions (by ifelse number).
  std::vector<int> ifelse_cond_slots_;
  int num_slots_ = 0;
  std::vector<SlotBinding> inputs_;
  std::vector<SlotBinding> shared_;
  std::vector<std::pair<int, runtime::Tensor>> constants_;
  std::vector<int> output_slots_;
  std::vector<ir::Type> output_types_;
  std::vector<std::string> output_contexts_;
  std::vector<std::string> input_contexts_;
  std::vector<int> update_targets_;
  std::vector<int> update_slots_;
  // False for updates read straight from a constant, input or shared slot: those slots must
  // keep their value, while a computed slot can hand its buffer to the shared variable.
  std::vector<bool> update_takes_slot_;
  bool allow_input_downcast_ = false;
  bool keep_intermediates_ = false;
  OutputCheck output_check_;
  std::shared_ptr<const RunInterceptor> interceptor_;
  std::string fingerprint_;
  int64_t compile_ns_ = 0;
  int64_t optimizer_ns_ = 0;
  int64_t validate_ns_ = 0;
  int64_t linker_ns_ = 0;
  int nodes_before_optimization_ = 0;
  std::vector<OptimizerPassTime> optimizer_passes_;

  mutable std::mutex frames_mu_;
  mutable std::vector<std::unique_ptr<Frame>> free_frames_;
};

}  // namespace tensord::compile
