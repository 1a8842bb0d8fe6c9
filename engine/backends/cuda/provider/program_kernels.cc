#include "engine/backends/cuda/provider/program_kernels.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/common/status.h"

namespace tensord::cuda {
namespace {

using ops::composite::Program;
using runtime::Tensor;

constexpr char kKernelName[] = "tensord_composite";

// Which of composite_source.h's kernels a program runs as.
enum class Family {
  kElementwise,  // CompositeSource: tensord_composite
  kReduceAll,    // CompositeReduceSource: tensord_composite, tensord_composite_finish
  kReduceAxes,   // CompositeReduceAxesSource: tensord_composite_by_block, _by_thread
};

// What the kernels of a program share: its code, the device, the kernels compiled per merged
// rank, and the operands' preparation.
class ProgramKernel : public backends::Kernel {
 public:
  ProgramKernel(Program program, std::shared_ptr<DeviceRuntime> device, Family family,
                OperandTypes types = {})
      : program_(std::move(program)),
        types_(std::move(types)),
        device_(std::move(device)),
        family_(family) {}

 protected:
  // The program's kernels for operands of merged rank `rank` (in Family's order), compiled on
  // a node's first run of that rank and kept: later runs copy nothing (the kept vector never
  // changes once filled).
  absl::StatusOr<const std::vector<KernelHandle>*> KernelsFor(int rank) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<KernelHandle>& kept = by_rank_[rank];
    if (!kept.empty()) return &kept;
    const std::string name = kKernelName;
    absl::StatusOr<std::string> source;
    std::vector<std::string> names;
    switch (family_) {
      case Family::kElementwise:
        source = CompositeSource(program_, rank, name, types_);
        names = {name};
        break;
      case Family::kReduceAll:
        source = CompositeReduceSource(program_, rank, name, types_);
        names = {name, name + "_finish"};
        break;
      case Family::kReduceAxes:
        source = CompositeReduceAxesSource(program_, rank, name, types_);
        names = {name + "_by_block", name + "_by_thread"};
        break;
    }
    TENSORD_RETURN_IF_ERROR(source.status());
    TENSORD_ASSIGN_OR_RETURN(kept, CompiledKernels(*device_, *source, names));
    return &kept;
  }

  // The broadcast shape of the program's operands, checked to be as many as it takes and,
  // where read, in the device's memory (placement moves every value there, constants too).
  absl::StatusOr<runtime::Shape> OperandsShape(std::span<const Tensor* const> in) const {
    if (static_cast<int>(in.size()) != program_.num_inputs) {
      return Internal("the program takes ", program_.num_inputs, " inputs, got ", in.size());
    }
    absl::InlinedVector<const runtime::Shape*, 8> shapes;
    for (int k = 0; k < program_.num_inputs; ++k) {
      if (program_.input_read[k] && in[k]->num_elements() > 0 && in[k]->host_accessible()) {
        return Internal("input ", k, " of a CUDA kernel is in host memory");
      }
      shapes.push_back(&in[k]->shape());
    }
    return cpu::BroadcastShapes(shapes);
  }

  const Program program_;
  const OperandTypes types_;  // an elementwise kernel's, where not the program's dtype
  const std::shared_ptr<DeviceRuntime> device_;

 private:
  const Family family_;
  std::mutex mu_;
  std::array<std::vector<KernelHandle>, kMaxCompositeRank + 1> by_rank_;
};

// An elementwise program: one thread per output element.
class CompositeKernel final : public ProgramKernel {
 public:
  CompositeKernel(DeviceElementwise work, std::shared_ptr<DeviceRuntime> device)
      : ProgramKernel(std::move(work.program), std::move(device), Family::kElementwise,
                      std::move(work.types)) {}

  absl::Status Run(std::span<const Tensor* const> in_slots, std::span<Tensor* const> out) override {
    absl::InlinedVector<const Tensor*, 8> in(in_slots.begin(), in_slots.end());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, OperandsShape(in));
    Tensor& y = *out[0];
    // An input donated to the output is the output's own Tensor (the executable's inplace
    // plan). Each thread reads its element's operands, then writes the element, so it is
    // written in place when laid out as the output; otherwise `donor` keeps it while the
    // output gets a buffer of its own.
    Tensor donor;
    const bool donated = std::find(in.begin(), in.end(), &y) != in.end();
    const DType y_dtype = types_.output == DType::kInvalid ? program_.dtype : types_.output;
    const bool in_place = donated && y.buffer() != nullptr && y.dtype() == y_dtype &&
                          y.shape() == shape && y.is_contiguous();
    if (donated && !in_place) {
      donor = y;
      std::replace(in.begin(), in.end(), static_cast<const Tensor*>(&y),
                   static_cast<const Tensor*>(&donor));  // wherever it is read
      y = Tensor();
    }
    if (!in_place) TENSORD_RETURN_IF_ERROR(y.Reshape(y_dtype, shape));
    if (y.num_elements() == 0) return absl::OkStatus();
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    int rank = 0;
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> params,
                             CompositeParams(program_, in, shape, &rank));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, KernelsFor(rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, params.data()};
    return device_->Launch((*kernels)[0], GridFor(y.num_elements()), kThreads, args);
  }
};

// A program reduced over every element (composite_source.h's folds), in two launches: blocks
// fold their elements into partials (8 bytes each: doubles, or 64-bit integers for an integer or
// bool program), then one block folds the partials.
class ReduceKernel final : public ProgramKernel {
 public:
  ReduceKernel(Program program, std::shared_ptr<DeviceRuntime> device, OperandTypes types = {})
      : ProgramKernel(std::move(program), std::move(device), Family::kReduceAll, std::move(types)) {
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, OperandsShape(in));
    const int64_t n = runtime::NumElements(shape);
    if (n == 0 && (program_.reduce == "max" || program_.reduce == "min")) {
      return InvalidArgument(program_.reduce, " of an empty array (shape ",
                             runtime::ShapeString(shape),
                             ", reducing zero elements) has no identity");
    }
    Tensor& y = *out[0];
    TENSORD_RETURN_IF_ERROR(y.Reshape(program_.dtype, {}));
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    runtime::MemoryCounter* device = y.buffer()->counter();
    int rank = 0;
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> params,
                             CompositeParams(program_, in, shape, &rank));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, KernelsFor(rank));
    int64_t blocks = std::min((n + kReduceThreads - 1) / kReduceThreads, kMostReduceBlocks);
    // Freed when this returns, while the kernels may still be queued: the caching allocator
    // hands its block only to later work on the same stream.
    Tensor partials;
    {
      runtime::ScopedMemoryContext on(device);
      TENSORD_ASSIGN_OR_RETURN(partials,  // 8-byte elements, whatever the accumulator's type
                               Tensor::Allocate(DType::kFloat64, {std::max<int64_t>(blocks, 1)}));
    }
    void* partials_data = partials.raw();
    if (blocks > 0) {
      void* args[] = {&partials_data, params.data()};
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[0], blocks, kReduceThreads, args));
    }
    void* y_data = y.raw();
    int64_t count = blocks, elements = n;
    void* finish_args[] = {&y_data, &partials_data, &count, &elements};
    return device_->Launch((*kernels)[1], 1, kReduceThreads, finish_args);
  }

 private:
  static constexpr int64_t kMostReduceBlocks = 1024;
};

// A reduction node over some of its value's dims (reduce_axes.h): sum, mean, prod, max, min,
// all or any over an axis list, or sum_to_like. Over every dim it is ReduceKernel's (a grid folds
// the value); over some, one launch of the axes kernels.
class AxesReduceKernel final : public ProgramKernel {
 public:
  AxesReduceKernel(DeviceReduction reduction, std::shared_ptr<DeviceRuntime> device)
      : ProgramKernel(reduction.program, device, Family::kReduceAxes, reduction.types),
        every_dim_(reduction.program, device, reduction.types),
        reduction_(std::move(reduction)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    if (x.num_elements() > 0 && x.host_accessible()) {
      return Internal("the value a CUDA kernel reduces is in host memory");
    }
    const bool to_like = reduction_.to_like;
    TENSORD_ASSIGN_OR_RETURN(
        std::vector<bool> reduced,
        ReducedDims(reduction_, x.shape(), to_like ? &in[1]->shape() : nullptr));
    runtime::Shape kept;
    for (int d = 0; d < x.ndim(); ++d) {
      if (!reduced[d]) kept.push_back(x.shape()[d]);
    }
    // sum_to_like gives the model's shape: the kept dims, with 1s where dims were summed.
    const runtime::Shape out_shape = to_like ? in[1]->shape() : kept;
    if (to_like && kept.size() == reduced.size()) {
      *out[0] = x;  // nothing was broadcast: a view, as on the host
      return absl::OkStatus();
    }
    Tensor& y = *out[0];
    if (kept.empty() && runtime::NumElements(x.shape()) > 0) {
      const Tensor* all_in[] = {&x};
      TENSORD_RETURN_IF_ERROR(every_dim_.Run(all_in, out));
      y = y.View(out_shape);
      return absl::OkStatus();
    }
    TENSORD_ASSIGN_OR_RETURN(AxesReduction plan, PlanAxesReduction(program_, x, reduced));
    if (plan.reduced == 0 && (program_.reduce == "max" || program_.reduce == "min")) {
      return InvalidArgument(program_.reduce, " of an empty array (shape ",
                             runtime::ShapeString(x.shape()),
                             ", reducing zero elements) has no identity");
    }
    TENSORD_RETURN_IF_ERROR(y.Reshape(program_.dtype, out_shape));
    if (plan.outputs == 0) return absl::OkStatus();
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, KernelsFor(plan.rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, plan.params.data(), &plan.outputs, &plan.reduced};
    return device_->Launch((*kernels)[plan.by_block ? 0 : 1], plan.blocks, plan.threads, args);
  }

 private:
  ReduceKernel every_dim_;
  const DeviceReduction reduction_;
};

}  // namespace

std::string OffsetSource(int rank) {
  return absl::StrCat(
      "__device__ inline long long tensord_offset(long long flat, const long long* shape,\n"
      "                                           const long long* strides) {\n"
      "  long long at = 0;\n"
      "  for (int d = ",
      rank - 1,
      "; d >= 0; --d) {\n"
      "    at += flat % shape[d] * strides[d];\n"
      "    flat /= shape[d];\n"
      "  }\n"
      "  return at;\n}\n");
}

std::string LaneRangeSource(const std::string& first, const std::string& last) {
  return absl::StrCat(
      "  const long long lane = ", first, " + (long long)blockIdx.x * blockDim.x + threadIdx.x;\n",
      "  if (lane >= ", last, ") return;\n", "  const long long begin = lane * p.chunk;\n",
      "  const long long end = begin + p.chunk < p.n ? begin + p.chunk : p.n;\n");
}

std::string LaneScanSource(const std::string& name) {
  // Each thread sums a run of lanes; thread 0 turns the sums into the runs' first positions and
  // writes the total; each thread then turns its lanes' counts into theirs.
  return absl::StrCat(
      "extern \"C\" __global__ void ", name, "(long long* counts, long long lanes) {\n",
      "  __shared__ long long first[", kScanThreads, "];\n",
      "  const long long per = (lanes + blockDim.x - 1) / blockDim.x;\n",
      "  const long long begin = threadIdx.x * per;\n",
      "  const long long end = begin + per < lanes ? begin + per : lanes;\n",
      "  long long sum = 0;\n  for (long long l = begin; l < end; ++l) sum += counts[l];\n",
      "  first[threadIdx.x] = sum;\n  __syncthreads();\n  if (threadIdx.x == 0) {\n",
      "    long long run = 0;\n    for (unsigned t = 0; t < blockDim.x; ++t) {\n",
      "      const long long s = first[t];\n      first[t] = run;\n      run += s;\n    }\n",
      "    counts[lanes] = run;\n  }\n  __syncthreads();\n",
      "  long long run = first[threadIdx.x];\n  for (long long l = begin; l < end; ++l) {\n",
      "    const long long c = counts[l];\n    counts[l] = run;\n    run += c;\n  }\n}\n");
}

absl::StatusOr<runtime::Tensor> DeviceWord(uint64_t value, runtime::MemoryCounter* context) {
  runtime::Tensor word;
  {
    runtime::ScopedMemoryContext on_host(runtime::HostWritable(context));
    word = runtime::Tensor(DType::kUInt64, {1});
    *word.data<uint64_t>() = value;
  }
  return runtime::IntoContext(std::move(word), context);
}

absl::StatusOr<std::vector<KernelHandle>> CompiledKernels(DeviceRuntime& device,
                                                          const std::string& source,
                                                          const std::vector<std::string>& names) {
  static std::mutex mu;
  // A source that failed to compile keeps its error: runs do not compile it again.
  static auto* compiled = new std::map<std::string, absl::StatusOr<std::vector<KernelHandle>>>();
  TENSORD_ASSIGN_OR_RETURN(std::string arch, device.Architecture());
  const std::string key = absl::StrCat(arch, "\n", source);
  std::lock_guard<std::mutex> lock(mu);  // compiling twice would only waste time
  if (auto it = compiled->find(key); it != compiled->end()) return it->second;
  return compiled->emplace(key, device.Compile(source, names)).first->second;
}

absl::StatusOr<const std::vector<KernelHandle>*> KernelsOnce::Get(DeviceRuntime& device) {
  std::lock_guard<std::mutex> lock(mu_);
  if (kept_.empty()) {
    TENSORD_ASSIGN_OR_RETURN(kept_, CompiledKernels(device, source_, names_));
  }
  return &kept_;
}

std::unique_ptr<backends::Kernel> MakeElementwiseKernel(DeviceElementwise work,
                                                        std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<CompositeKernel>(std::move(work), std::move(device));
}

std::unique_ptr<backends::Kernel> MakeReduceKernel(Program program,
                                                   std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<ReduceKernel>(std::move(program), std::move(device));
}

std::unique_ptr<backends::Kernel> MakeAxesReduceKernel(DeviceReduction reduction,
                                                       std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<AxesReduceKernel>(std::move(reduction), std::move(device));
}

}  // namespace tensord::cuda
