#include "engine/compile/executable.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine/backends/cpu/cast.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/compile/inplace_plan.h"
#include "engine/runtime/deferred_checks.h"
#include "engine/runtime/interrupt.h"

namespace tensord::compile {

// Per-run state. Pointer arrays are built once per frame so a run only fills slots.
struct Executable::Frame {
  std::vector<runtime::Tensor> slots;
  std::vector<std::vector<const runtime::Tensor*>> in_ptrs;
  // For instructions that may take an input's buffer: in_ptrs with that input read through the
  // output slot, where the donation moves it.
  std::vector<std::vector<const runtime::Tensor*>> donated_in_ptrs;
  std::vector<std::vector<runtime::Tensor*>> out_ptrs;
  // Lazy ifelse: each ifelse's decision in this run (-1: not read yet, 1: then, 0: else).
  std::vector<int8_t> decisions;
};

namespace {

// A device instruction timed on its device in a profiled run: a mark before its kernels, one
// after (Finish), both released whatever happens (a kernel may throw out of memory).
class DeviceTiming {
 public:
  explicit DeviceTiming(cuda::DeviceRuntime& device) : device_(device) {
    if (absl::StatusOr<cuda::DeviceMark> mark = device_.Mark(); mark.ok()) before_ = *mark;
  }
  ~DeviceTiming() {
    if (before_) device_.Release(*before_);
  }
  DeviceTiming(const DeviceTiming&) = delete;
  DeviceTiming& operator=(const DeviceTiming&) = delete;

  // Waits for the work issued since the first mark and returns its time on the device; nullopt
  // where a mark could not be made (the host's time stands), an error where the work failed.
  absl::StatusOr<std::optional<int64_t>> Finish() {
    if (!before_) return std::optional<int64_t>();
    absl::StatusOr<cuda::DeviceMark> after = device_.Mark();
    if (!after.ok()) return std::optional<int64_t>();
    absl::StatusOr<int64_t> ns = device_.ElapsedNs(*before_, *after);
    device_.Release(*after);
    if (!ns.ok()) return ns.status();
    return std::optional<int64_t>(*ns);
  }

 private:
  cuda::DeviceRuntime& device_;
  std::optional<cuda::DeviceMark> before_;
};

// An ifelse condition's truth (cpu::IsTruthy), once it has been computed.
absl::StatusOr<bool> Truthy(const runtime::Tensor& t) {
  if (!t.buffer() || t.num_elements() != 1) {
    return Internal("ifelse: the condition was not computed before a guarded instruction");
  }
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor host, runtime::OnHost(t));  // computed on a GPU?
  return cpu::IsTruthy(host);
}

// profile_memory: what instruction `ins` left in its output slots, and whether each output got a
// buffer of its own, took its donated input's (inplace) or shares another input's (a view).
void RecordOutputs(const Instruction& ins, const std::vector<const runtime::Tensor*>& inputs,
                   const std::vector<runtime::Tensor*>& outputs, std::vector<OutputMemory>& out) {
  out.clear();
  for (size_t k = 0; k < outputs.size(); ++k) {
    const runtime::Tensor& t = *outputs[k];
    OutputMemory m;
    m.buffer = t.buffer().get();
    m.buffer_bytes = t.buffer() ? static_cast<int64_t>(t.buffer()->bytes()) : 0;
    m.bytes = t.buffer() ? static_cast<int64_t>(t.num_bytes()) : 0;
    m.shape = t.shape();
    for (size_t j = 0; j < inputs.size() && m.buffer != nullptr; ++j) {
      if (inputs[j]->buffer().get() != m.buffer) continue;
      m.kind = k == 0 && ins.donate == static_cast<int>(j) ? 'i' : 'v';
      break;
    }
    out.push_back(std::move(m));
  }
}

}  // namespace

Executable::Executable() = default;
Executable::~Executable() = default;

std::unique_ptr<Executable::Frame> Executable::AcquireFrame() const {
  {
    std::lock_guard<std::mutex> lock(frames_mu_);
    if (!free_frames_.empty()) {
      auto f = std::move(free_frames_.back());
      free_frames_.pop_back();
      return f;
    }
  }
  auto f = std::make_unique<Frame>();
  f->slots.resize(num_slots_);
  f->decisions.assign(ifelse_cond_slots_.size(), -1);
  for (const auto& [slot, value] : constants_) f->slots[slot] = value;
  for (const Instruction& ins : instructions_) {
    auto& in = f->in_ptrs.emplace_back();
    for (int s : ins.inputs) in.push_back(&f->slots[s]);
    auto& out = f->out_ptrs.emplace_back();
    for (int s : ins.outputs) out.push_back(&f->slots[s]);
    auto& donated = f->donated_in_ptrs.emplace_back();
    if (ins.donate < 0) continue;
    for (int s : ins.inputs) {
      donated.push_back(&f->slots[s == ins.inputs[ins.donate] ? ins.outputs[0] : s]);
    }
  }
  return f;
}

void Executable::DropDeadSlots(const Instruction& ins, Frame& frame) {
  for (int s : ins.drops) frame.slots[s] = runtime::Tensor();
}

void Executable::ReleaseFrame(std::unique_ptr<Frame> frame) const {
  if (!keep_intermediates_) {
    // An idle frame holds nothing of the run (what a failed run left is dropped here too).
    for (auto& slot : frame->slots) slot = runtime::Tensor();
  } else {
    // Keep only buffers the frame owns alone (reused next run); drop inputs, shared values and
    // views of them, so an idle frame does not pin a caller's or a variable's memory; and drop
    // buffers of a context with a memory limit, whose room live values need more, and those a
    // tenant's quota counts (kept, they would hold its device memory uncounted, for anyone).
    for (auto& slot : frame->slots) {
      const auto& buffer = slot.buffer();
      if (buffer &&
          (buffer.use_count() > 1 || buffer->counter()->limit() > 0 || buffer->has_quota())) {
        slot = runtime::Tensor();
      }
    }
  }
  for (const auto& [slot, value] : constants_) frame->slots[slot] = value;
  std::lock_guard<std::mutex> lock(frames_mu_);
  free_frames_.push_back(std::move(frame));
}

absl::Status Executable::BindInput(size_t index, runtime::Tensor value,
                                   runtime::Tensor& slot) const {
  const SlotBinding& p = inputs_[index];
  const std::string& what = p.label;
  if (value.dtype() != p.type.dtype) {
    if (!allow_input_downcast_ && !CanCastSafely(value.dtype(), p.type.dtype)) {
      std::string want(DTypeName(p.type.dtype));
      return InvalidArgument(what, ": ", ir::TypeString(p.type), " cannot store a value of dtype ",
                             DTypeName(value.dtype()),
                             " without risking loss of precision. If you do not mind this loss, "
                             "you can: 1) explicitly cast your data to ",
                             want,
                             ", or 2) set \"allow_input_downcast=True\" when calling "
                             "\"function\".");
    }
    runtime::Tensor cast;
    TENSORD_ASSIGN_OR_RETURN(value, runtime::OnHost(value));  // a GPU's array: cast on the host
    TENSORD_RETURN_IF_ERROR(cpu::CastInto(value, p.type.dtype, cast));
    value = std::move(cast);
  }
  TENSORD_RETURN_IF_ERROR(ir::CheckValueFitsType(value, p.type, what));
  slot = std::move(value);
  return absl::OkStatus();
}

absl::StatusOr<RunResult> Executable::Run(std::vector<runtime::Tensor> inputs,
                                          const std::vector<runtime::Tensor>& shared_values,
                                          RunTrace* trace) const {
  if (interceptor_ != nullptr) return interceptor_->Run(*this, std::move(inputs), shared_values);
  return RunUnchecked(std::move(inputs), shared_values, trace);
}

// The instruction loop, compiled twice: kTimed reads the clock around each kernel, the plain
// one is the loop as it was, so profiling off costs one branch per run.
template <bool kTimed>
absl::Status Executable::RunInstructions(Frame& frame, RunTrace* trace) const {
  using Clock = std::chrono::steady_clock;
  Clock::time_point run_start;
  if constexpr (kTimed) {
    trace->start_ns.assign(instructions_.size(), -1);
    trace->duration_ns.assign(instructions_.size(), -1);
    trace->device_timed.assign(instructions_.size(), false);
    if (trace->record_memory) {
      trace->outputs.assign(instructions_.size(), {});
      trace->bound_buffers.clear();
      for (const auto* bindings : {&inputs_, &shared_}) {
        for (const SlotBinding& b : *bindings) {
          const runtime::Tensor& t = frame.slots[b.slot];
          if (t.buffer()) trace->bound_buffers.emplace_back(t.buffer().get(), t.buffer()->bytes());
        }
      }
    }
    run_start = Clock::now();
  }
  absl::Status status;
  runtime::DeferredChecks deferred;  // device kernels' checks, read once the loop is done
  std::fill(frame.decisions.begin(), frame.decisions.end(), int8_t{-1});
  for (size_t i = 0; i < instructions_.size() && status.ok(); ++i) {
    const Instruction& ins = instructions_[i];
    deferred.SetLabel(&ins.label);
    // Lazy ifelse: skip an instruction only the branch not taken needs (not timed, not checked).
    bool skip = false;
    for (const auto& [which, branch] : ins.guards) {
      int8_t& d = frame.decisions[which];
      if (d < 0) {
        absl::StatusOr<bool> taken = Truthy(frame.slots[ifelse_cond_slots_[which]]);
        if (!taken.ok()) {
          status = taken.status();
          break;
        }
        d = *taken ? 1 : 0;
      }
      if ((branch == 0) != (d == 1)) {
        skip = true;
        break;
      }
    }
    if (!status.ok()) break;
    if (skip) {
      DropDeadSlots(ins, frame);
      continue;
    }
    Clock::time_point start;
    std::optional<DeviceTiming> device_timing;  // profiled runs of device instructions only
    if constexpr (kTimed) {
      if (ins.device != nullptr) device_timing.emplace(*ins.device);
      start = Clock::now();
    }
    const bool donated = ins.donate >= 0 && TryDonate(ins, frame.slots);
    const auto& in_ptrs = donated ? frame.donated_in_ptrs[i] : frame.in_ptrs[i];
    // A host node reading a device's value (a transfer down) waits for the device anyway: the
    // pending checks first, so that no host work (a shape, a loop's length) runs on what a bad
    // index left unwritten.
    if (deferred.pending() && ins.device == nullptr &&
        std::any_of(in_ptrs.begin(), in_ptrs.end(),
                    [](const runtime::Tensor* t) { return !t->host_accessible(); })) {
      status = deferred.RunAll();
      if (!status.ok()) break;
    }
    {
      std::optional<runtime::ScopedMemoryContext> on_device;
      if (ins.memory != nullptr) on_device.emplace(ins.memory);
      status = ins.kernel->Run(in_ptrs, frame.out_ptrs[i]);
    }
    if constexpr (kTimed) {
      auto end = Clock::now();
      int64_t duration = std::chrono::nanoseconds(end - start).count();
      if (device_timing.has_value() && status.ok()) {
        // The node's kernels' time on the device, waited for here so that the next node's time
        // does not include them (a profiled run is synchronous, as Theano's GPU profiles were).
        absl::StatusOr<std::optional<int64_t>> device_ns = device_timing->Finish();
        if (!device_ns.ok()) {
          status = device_ns.status();  // an asynchronous fault of the node's kernels
        } else if (device_ns->has_value()) {
          duration = **device_ns;
          trace->device_timed[i] = true;
        }
      }
      trace->start_ns[i] = std::chrono::nanoseconds(start - run_start).count();
      trace->duration_ns[i] = duration;
      if (trace->record_memory && status.ok()) {
        RecordOutputs(ins, in_ptrs, frame.out_ptrs[i], trace->outputs[i]);
      }
    }
    if (!status.ok()) {
      status = absl::Status(status.code(), absl::StrCat("in ", ins.label, ": ", status.message()));
    } else if (output_check_) {
      status = output_check_(ins.label, frame.out_ptrs[i]);
    }
    DropDeadSlots(ins, frame);
    // A run whose client gave up stops early. Every 16 instructions keeps the clock read off
    // small kernels' cost; the caller checks again before it stores anything.
    if (status.ok() && (i & 15) == 15) status = runtime::CheckInterrupted();
  }
  // An earlier node's deferred failure is the run's error, before a later node's.
  absl::Status checked = deferred.RunAll();
  return checked.ok() ? status : checked;
}

absl::StatusOr<RunResult> Executable::RunUnchecked(
    std::vector<runtime::Tensor> inputs, const std::vector<runtime::Tensor>& shared_values,
    RunTrace* trace) const {
  if (inputs.size() != inputs_.size()) {
    return InvalidArgument("function takes ", inputs_.size(), " inputs, got ", inputs.size());
  }
  if (shared_values.size() != shared_.size()) {
    return Internal("expected ", shared_.size(), " shared values, got ", shared_values.size());
  }
  std::unique_ptr<Frame> frame = AcquireFrame();
  absl::Status status;
  for (size_t i = 0; i < inputs.size() && status.ok(); ++i) {
    status = BindInput(i, std::move(inputs[i]), frame->slots[inputs_[i].slot]);
  }
  for (size_t i = 0; i < shared_.size(); ++i) frame->slots[shared_[i].slot] = shared_values[i];
  if (status.ok()) {
    status = trace != nullptr ? RunInstructions<true>(*frame, trace)
                              : RunInstructions<false>(*frame, nullptr);
  }
  RunResult result;
  if (status.ok()) {
    for (int s : output_slots_) result.outputs.push_back(frame->slots[s]);
    // Updates take their slot's buffer: the shared variable owns it from now on.
    for (int s : update_slots_) result.updates.push_back(frame->slots[s]);
    for (size_t i = 0; i < update_slots_.size(); ++i)
      if (update_takes_slot_[i]) frame->slots[update_slots_[i]] = runtime::Tensor();
  }
  ReleaseFrame(std::move(frame));
  if (!status.ok()) return status;
  return result;
}

size_t Executable::ApproximateBytes() const {
  // Constants dominate; the rest is bookkeeping: the kept graph (nodes, attributes, constant
  // values held by graph variables are the same buffers as constants_, so not counted twice),
  // kernels and a frame's slot arrays.
  size_t bytes = sizeof(*this) + instructions_.size() * 256 + num_slots_ * 64;
  for (const auto& [slot, value] : constants_) bytes += value.num_bytes();
  if (graph_ != nullptr) {
    bytes += graph_->variables().size() * (sizeof(ir::Variable) + 32);
    for (const auto& a : graph_->applies()) {
      bytes += sizeof(ir::Apply) + a->op.size() + 48 * (a->inputs.size() + a->outputs.size());
      for (const auto& [key, value] : a->attrs) {
        bytes += key.size() + 64;
        if (const auto* s = std::get_if<std::string>(&value)) bytes += s->size();
        if (const auto* v = std::get_if<std::vector<int64_t>>(&value)) bytes += 8 * v->size();
        if (const auto* v = std::get_if<std::vector<double>>(&value)) bytes += 8 * v->size();
      }
    }
  }
  if (interceptor_ != nullptr) bytes += interceptor_->ApproximateBytes();
  return bytes;
}

}  // namespace tensord::compile
