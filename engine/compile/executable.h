// A compiled function: a flat list of instructions over numbered buffer slots, with kernels
// bound at compile time. Running it never walks the graph; frames (slot arrays) are pooled so
// steady-state runs reuse their buffers instead of allocating.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/ir/graph.h"
#include "engine/ops/op_def.h"

namespace tensord::compile {

struct Instruction {
  std::unique_ptr<ops::Kernel> kernel;
  std::vector<int> inputs;   // slot numbers
  std::vector<int> outputs;  // slot numbers
  std::string label;         // "add(x, y)" for error messages
};

struct SlotBinding {
  int slot = 0;
  ir::Type type;
  std::string name;
  std::string label;  // "input 0 ('x')" for errors, built once so Run does not format it
};

struct RunResult {
  std::vector<runtime::Tensor> outputs;
  std::vector<runtime::Tensor> updates;  // new values, in the order of update_targets()
};

class Executable {
 public:
  Executable();
  ~Executable();

  // Runs with the caller's inputs (checked against their types, cast where allowed) and the
  // current values of the shared variables, in shared_params() order.
  absl::StatusOr<RunResult> Run(std::vector<runtime::Tensor> inputs,
                                const std::vector<runtime::Tensor>& shared_values) const;

  const std::vector<SlotBinding>& input_params() const { return inputs_; }
  const std::vector<SlotBinding>& shared_params() const { return shared_; }
  const std::vector<ir::Type>& output_types() const { return output_types_; }
  // For each update, the index into shared_params() it writes.
  const std::vector<int>& update_targets() const { return update_targets_; }
  const ir::Graph& graph() const { return *graph_; }
  const std::string& fingerprint() const { return fingerprint_; }
  int node_count() const { return static_cast<int>(instructions_.size()); }
  int64_t compile_ns() const { return compile_ns_; }
  // Rough resident size, for the cache's accounting.
  size_t ApproximateBytes() const;

 private:
  friend class ExecutableBuilder;
  struct Frame;

  std::unique_ptr<Frame> AcquireFrame() const;
  void ReleaseFrame(std::unique_ptr<Frame> frame) const;
  absl::Status BindInput(size_t index, runtime::Tensor value, runtime::Tensor& slot) const;

  std::unique_ptr<ir::Graph> graph_;
  std::vector<Instruction> instructions_;
  int num_slots_ = 0;
  std::vector<SlotBinding> inputs_;
  std::vector<SlotBinding> shared_;
  std::vector<std::pair<int, runtime::Tensor>> constants_;
  std::vector<int> output_slots_;
  std::vector<ir::Type> output_types_;
  std::vector<int> update_targets_;
  std::vector<int> update_slots_;
  // False for updates read straight from a constant, input or shared slot: those slots must
  // keep their value, while a computed slot can hand its buffer to the shared variable.
  std::vector<bool> update_takes_slot_;
  bool allow_input_downcast_ = false;
  std::string fingerprint_;
  int64_t compile_ns_ = 0;

  mutable std::mutex frames_mu_;
  mutable std::vector<std::unique_ptr<Frame>> free_frames_;
};

}  // namespace tensord::compile
