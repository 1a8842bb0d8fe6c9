#include "engine/backends/cuda/provider/provider.h"

#include <algorithm>
#include <array>
#include <map>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/cuda/provider/indexing.h"
#include "engine/backends/cuda/provider/reduce_axes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/subtensor.h"

namespace tensord::cuda {
namespace {

using ops::composite::Program;
using runtime::Tensor;

constexpr char kKernelName[] = "tensord_composite";
constexpr int kThreads = 256;
constexpr int64_t kMostBlocks = 1 << 16;  // a grid-stride loop covers the rest

bool FloatDType(DType d) { return d == DType::kFloat32 || d == DType::kFloat64; }

// A lone fusable op as a program of one instruction over its inputs.
absl::StatusOr<Program> LoneOpProgram(const ir::Apply& node) {
  const int opcode = node.def->FusionOpcode();
  const int arity = static_cast<int>(node.inputs.size());
  // add(a, b, c) is one node but two instructions (fusion folds it): not a lone op here.
  if (opcode < 0 || node.outputs.size() != 1 || arity != node.def->scalar->arity) {
    return Unimplemented("op '", node.op, "' with ", arity, " inputs has no CUDA kernel");
  }
  Program p;
  p.dtype = node.outputs[0]->type.dtype;
  p.num_inputs = arity;
  ops::composite::Instr ins;
  ins.op = opcode;
  for (int k = 0; k < arity; ++k) ins.args[k] = k;
  p.code.push_back(ins);
  p.input_read.assign(arity, true);
  return p;
}

// A value converted to `dtype` (no instructions over one input): a copy, or a cast.
Program BareProgram(DType dtype) {
  Program p;
  p.dtype = dtype;
  p.num_inputs = 1;
  p.input_read = {true};
  return p;
}

// The kernels named `names` of `source`, compiled by NVRTC once in this process per
// architecture and source: functions and nodes computing the same program share them.
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
        source = CompositeReduceSource(program_, rank, name);
        names = {name, name + "_finish"};
        break;
      case Family::kReduceAxes:
        source = CompositeReduceAxesSource(program_, rank, name);
        names = {name + "_by_block", name + "_by_thread"};
        break;
    }
    TENSORD_RETURN_IF_ERROR(source.status());
    TENSORD_ASSIGN_OR_RETURN(kept, CompiledKernels(*device_, *source, names));
    return &kept;
  }

  // The broadcast shape of the program's operands (checked to be as many as it takes).
  absl::StatusOr<runtime::Shape> OperandsShape(const std::vector<const Tensor*>& in) const {
    if (static_cast<int>(in.size()) != program_.num_inputs) {
      return Internal("the program takes ", program_.num_inputs, " inputs, got ", in.size());
    }
    std::vector<const runtime::Shape*> shapes;
    for (const Tensor* t : in) shapes.push_back(&t->shape());
    return cpu::BroadcastShapes(shapes);
  }

  // An input in host memory is a constant (placement moves everything else): copied into
  // `context` for this run, `in` then pointing at the copy in `uploaded` (reserved for all).
  absl::Status UploadHostInputs(std::vector<const Tensor*>& in, runtime::MemoryCounter* context,
                                std::vector<Tensor>& uploaded) {
    uploaded.reserve(in.size());
    for (int k = 0; k < program_.num_inputs; ++k) {
      if (!program_.input_read[k] || !in[k]->host_accessible()) continue;
      TENSORD_ASSIGN_OR_RETURN(Tensor staged, cpu::HostContiguous(*in[k]));
      TENSORD_ASSIGN_OR_RETURN(Tensor up, runtime::IntoContext(std::move(staged), context));
      uploaded.push_back(std::move(up));
      in[k] = &uploaded.back();
    }
    return absl::OkStatus();
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
    std::vector<const Tensor*> in(in_slots.begin(), in_slots.end());
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
    std::vector<Tensor> uploaded;
    TENSORD_RETURN_IF_ERROR(UploadHostInputs(in, y.buffer()->counter(), uploaded));
    int rank = 0;
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> params,
                             CompositeParams(program_, in, shape, &rank));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, KernelsFor(rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, params.data()};
    const int64_t blocks = std::min((y.num_elements() + kThreads - 1) / kThreads, kMostBlocks);
    return device_->Launch((*kernels)[0], blocks, kThreads, args);
  }
};

// A program reduced over every element (sum, mean, max, min), in two launches: blocks fold
// their elements into partials (in double), then one block folds the partials.
class ReduceKernel final : public ProgramKernel {
 public:
  ReduceKernel(Program program, std::shared_ptr<DeviceRuntime> device)
      : ProgramKernel(std::move(program), std::move(device), Family::kReduceAll) {}

  absl::Status Run(std::span<const Tensor* const> in_slots, std::span<Tensor* const> out) override {
    std::vector<const Tensor*> in(in_slots.begin(), in_slots.end());
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
    std::vector<Tensor> uploaded;
    TENSORD_RETURN_IF_ERROR(UploadHostInputs(in, device, uploaded));
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
      TENSORD_ASSIGN_OR_RETURN(partials,
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

// A reduction node over some of its value's dims (reduce_axes.h): sum, mean, max or min over
// an axis list, or sum_to_like. Over every dim it is ReduceKernel's (a grid folds the value);
// over some, one launch of the axes kernels.
class AxesReduceKernel final : public ProgramKernel {
 public:
  AxesReduceKernel(DeviceReduction reduction, std::shared_ptr<DeviceRuntime> device)
      : ProgramKernel(reduction.program, device, Family::kReduceAxes),
        every_dim_(reduction.program, device),
        reduction_(std::move(reduction)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
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
    std::vector<const Tensor*> operands = {&x};
    std::vector<Tensor> uploaded;
    TENSORD_RETURN_IF_ERROR(UploadHostInputs(operands, y.buffer()->counter(), uploaded));
    if (operands[0] != &x) {  // a constant, now on the device
      TENSORD_ASSIGN_OR_RETURN(plan, PlanAxesReduction(program_, *operands[0], reduced));
    }
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, KernelsFor(plan.rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, plan.params.data(), &plan.outputs, &plan.reduced};
    return device_->Launch((*kernels)[plan.by_block ? 0 : 1], plan.blocks, plan.threads, args);
  }

 private:
  ReduceKernel every_dim_;
  const DeviceReduction reduction_;
};

// Integer-array indexing and its increment (indexing.h): one launch of a generated kernel; an
// increment first copies x into its output (the elementwise kernel of a bare value). An index
// out of bounds is reported through a word on the device, read back after the launch (the
// stream drains): INVALID_ARGUMENT in NumPy's words, naming the index the host would.
class IndexingKernel final : public backends::Kernel {
 public:
  IndexingKernel(const ir::Apply& node, std::vector<int> index_inputs,
                 std::shared_ptr<DeviceRuntime> device)
      : inc_(node.op.find("inc") != std::string::npos),
        index_inputs_(std::move(index_inputs)),
        device_(std::move(device)) {
    if (inc_) {
      copy_ = std::make_unique<CompositeKernel>(
          DeviceElementwise{BareProgram(node.outputs[0]->type.dtype)}, device_);
    }
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    std::vector<const Tensor*> indices;
    for (int k : index_inputs_) indices.push_back(in[k]);
    const Tensor* y = inc_ ? in[1] : nullptr;
    for (const Tensor* t : in) {
      if (t->num_elements() > 0 && t->host_accessible()) {
        return Internal("an input of a CUDA kernel is in host memory");
      }
    }
    Tensor& result = *out[0];
    if (inc_) {  // result = x, then y added at the indexed places
      const Tensor* x_in[] = {in[0]};
      TENSORD_RETURN_IF_ERROR(copy_->Run(x_in, out));
    }
    TENSORD_ASSIGN_OR_RETURN(IndexingRun run, PlanIndexing(inc_ ? result : *in[0], indices, y));
    if (!inc_) TENSORD_RETURN_IF_ERROR(result.Reshape(in[0]->dtype(), run.gathered));
    const int64_t n = run.params[0];
    if (n == 0) return absl::OkStatus();
    std::vector<DType> index_dtypes;
    for (const Tensor* t : indices) index_dtypes.push_back(t->dtype());
    const std::string name = "tensord_index";
    TENSORD_ASSIGN_OR_RETURN(
        std::string source,
        inc_ ? ScatterAddSource(result.dtype(), index_dtypes, y->dtype(), run.index_rank,
                                run.trailing_rank, name)
             : GatherSource(result.dtype(), index_dtypes, run.index_rank, run.trailing_rank, name));
    TENSORD_ASSIGN_OR_RETURN(std::vector<KernelHandle> kernels,
                             CompiledKernels(*device_, source, {name}));
    // The report's word on the device, made per run (runs may overlap), built on the host.
    runtime::MemoryCounter* device = result.buffer()->counter();
    constexpr uint64_t kNone = ~uint64_t{0};
    Tensor start;
    {
      runtime::ScopedMemoryContext on_host(runtime::HostWritable(device));
      start = Tensor(DType::kUInt64, {1});
      *start.data<uint64_t>() = kNone;
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor report, runtime::IntoContext(std::move(start), device));
    run.params.push_back(reinterpret_cast<int64_t>(report.raw()));
    void* out_data = result.raw();
    void* args[] = {&out_data, run.params.data()};
    const int64_t blocks = std::min((n + kThreads - 1) / kThreads, kMostBlocks);
    TENSORD_RETURN_IF_ERROR(device_->Launch(kernels[0], blocks, kThreads, args));
    TENSORD_ASSIGN_OR_RETURN(Tensor seen, runtime::OnHost(report));
    if (const uint64_t key = *seen.data<uint64_t>(); key != kNone) {
      return IndexOutOfBounds(key, *in[0], indices);
    }
    return absl::OkStatus();
  }

 private:
  const bool inc_;
  const std::vector<int> index_inputs_;  // the node's inputs holding the index arrays, in order
  const std::shared_ptr<DeviceRuntime> device_;
  std::unique_ptr<CompositeKernel> copy_;  // an increment's x -> its output
};

// A 2-d operand as cuBLAS reads it: row-major (unit column stride) or a transposed view of a
// row-major matrix (unit row stride), with its leading dimension; UNIMPLEMENTED for any other
// strides (a view no kernel here makes).
struct BlasOperand {
  const void* data;
  int64_t ld;
  bool transposed;
};
absl::StatusOr<BlasOperand> AsBlasOperand(const Tensor& t, int which) {
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  const int64_t row_stride = t.strides()[0], col_stride = t.strides()[1];
  if ((cols <= 1 || col_stride == 1) && (rows <= 1 || row_stride >= cols)) {
    return BlasOperand{t.raw(), std::max<int64_t>(1, rows <= 1 ? cols : row_stride), false};
  }
  if ((rows <= 1 || row_stride == 1) && (cols <= 1 || col_stride >= rows)) {
    return BlasOperand{t.raw(), std::max<int64_t>(1, cols <= 1 ? rows : col_stride), true};
  }
  return Unimplemented("operand ", which, " of a product is a strided view cuBLAS cannot read");
}

Tensor Transposed(const Tensor& t) {
  return t.StridedView({t.shape()[1], t.shape()[0]}, {t.strides()[1], t.strides()[0]}, 0);
}

// c (m x n, a buffer on the device) = alpha * x y + beta * c, by cuBLAS.
absl::Status MultiplyInto(DeviceRuntime& device, const Tensor& x, const Tensor& y, double alpha,
                          double beta, Tensor& c) {
  if (x.host_accessible() || y.host_accessible()) {
    return Internal("an operand of a CUDA product is in host memory");
  }
  TENSORD_ASSIGN_OR_RETURN(BlasOperand a, AsBlasOperand(x, 0));
  TENSORD_ASSIGN_OR_RETURN(BlasOperand b, AsBlasOperand(y, 1));
  const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  if (c.num_elements() > 0 && c.host_accessible()) {
    return Internal("the output of a CUDA product is in host memory");
  }
  return device.Gemm(x.dtype(), a.transposed, b.transposed, m, n, k, alpha, a.data, a.ld, b.data,
                     b.ld, beta, c.raw(), GemmBatch{});
}

// A 0-d value on the device, read on the host (a synchronous copy: the stream drains).
absl::StatusOr<double> ScalarOf(const Tensor& t) {
  TENSORD_ASSIGN_OR_RETURN(Tensor host, runtime::OnHost(t));
  return host.dtype() == DType::kFloat32 ? double{*host.data<float>()} : *host.data<double>();
}

// The product family on cuBLAS: dot, tensordot of matrices over one axis each (a product of
// transposed views), gemm (z scaled by beta on the device, then alpha * x y added) and
// dot_composite (the product, then its program over it and the other inputs).
class ProductKernel final : public backends::Kernel {
 public:
  ProductKernel(const ir::Apply& node, std::shared_ptr<DeviceRuntime> device,
                std::optional<DeviceElementwise> epilogue)
      : op_(node.op), device_(std::move(device)) {
    if (op_ == "tensordot") {  // x contracted over its axis 1 and y over its axis 0 as is
      auto axis = [&](const char* name) {
        const int64_t a = ir::GetIntsAttr(node, name).value_or(std::vector<int64_t>{0})[0];
        return a < 0 ? a + 2 : a;
      };
      transpose_x_ = axis("axes_a") == 0;
      transpose_y_ = axis("axes_b") == 1;
    }
    if (epilogue) epilogue_ = std::make_unique<CompositeKernel>(*std::move(epilogue), device_);
    if (op_ == "gemm") {
      const DType dtype = node.outputs[0]->type.dtype;
      scale_ =
          std::make_unique<CompositeKernel>(DeviceElementwise{ScaleProgram(dtype, false)}, device_);
      scale_empty_ =
          std::make_unique<CompositeKernel>(DeviceElementwise{ScaleProgram(dtype, true)}, device_);
    }
  }

  // gemm's first step over c's shape (input 0, read for its shape only): beta * z (inputs 1, 2),
  // and for an empty sum (k == 0) + alpha * 0 (input 3), as the host computes it: NaN for an
  // infinite alpha, +0 for -0.
  static Program ScaleProgram(DType dtype, bool empty_sum) {
    using ops::composite::Instr;
    using ops::composite::Opcode;
    Program p;
    p.dtype = dtype;
    p.num_inputs = empty_sum ? 4 : 3;
    p.input_read = {false, true, true};
    p.code = {Instr{Opcode("mul"), {1, 2, -1}}};  // register num_inputs
    if (empty_sum) {
      p.input_read.push_back(true);
      p.constants = {0.0};
      p.code.push_back(Instr{ops::composite::kConst, {0, -1, -1}});  // 5
      p.code.push_back(Instr{Opcode("mul"), {3, 5, -1}});            // 6
      p.code.push_back(Instr{Opcode("add"), {4, 6, -1}});
    }
    return p;
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const bool gemm = op_ == "gemm";
    const Tensor& x0 = gemm ? *in[2] : *in[0];
    const Tensor& y0 = gemm ? *in[3] : *in[1];
    const Tensor x = transpose_x_ ? Transposed(x0) : x0;
    const Tensor y = transpose_y_ ? Transposed(y0) : y0;
    if (x.shape()[1] != y.shape()[0]) {
      return InvalidArgument(op_, ": shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", x.shape()[1],
                             " (dim 1) != ", y.shape()[0], " (dim 0)");
    }
    const runtime::Shape shape{x.shape()[0], y.shape()[1]};
    if (op_ == "dot" || op_ == "tensordot") {
      TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
      return MultiplyInto(*device_, x, y, 1.0, 0.0, *out[0]);
    }
    // The other inputs must keep the product's shape, as the host's kernels require for
    // dot_composite; a gemm's z broadcasting it to a larger one is the host's alone.
    std::vector<const runtime::Shape*> shapes = {&shape};
    for (size_t k = gemm ? 0 : 2; k < (gemm ? 1 : in.size()); ++k)
      shapes.push_back(&in[k]->shape());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape joint, cpu::BroadcastShapes(shapes));
    if (joint != shape) {
      const std::string why =
          absl::StrCat(op_, ": its inputs broadcast the product (", runtime::ShapeString(shape),
                       ") to ", runtime::ShapeString(joint));
      return gemm ? absl::UnimplementedError(why) : absl::InvalidArgumentError(why);
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor c, Tensor::Allocate(x.dtype(), shape));
    if (gemm) {
      // c = beta * z first, broadcast as the host's gemm does (inf and NaN times 0 stay NaN).
      const bool empty_sum = x.shape()[1] == 0;
      const Tensor* scale_in[] = {&c, in[0], in[4], in[1]};
      Tensor* scale_out[] = {&c};
      TENSORD_RETURN_IF_ERROR((empty_sum ? scale_empty_ : scale_)
                                  ->Run(std::span(scale_in, empty_sum ? 4 : 3), scale_out));
      if (empty_sum) {
        *out[0] = std::move(c);
        return absl::OkStatus();
      }
      TENSORD_ASSIGN_OR_RETURN(double alpha, ScalarOf(*in[1]));
      TENSORD_RETURN_IF_ERROR(MultiplyInto(*device_, x, y, alpha, 1.0, c));
      *out[0] = std::move(c);
      return absl::OkStatus();
    }
    TENSORD_RETURN_IF_ERROR(MultiplyInto(*device_, x, y, 1.0, 0.0, c));  // dot_composite
    std::vector<const Tensor*> program_in = {&c};
    program_in.insert(program_in.end(), in.begin() + 2, in.end());
    return epilogue_->Run(program_in, out);
  }

 private:
  const std::string op_;
  const std::shared_ptr<DeviceRuntime> device_;
  bool transpose_x_ = false, transpose_y_ = false;
  std::unique_ptr<CompositeKernel> epilogue_;             // dot_composite's program
  std::unique_ptr<CompositeKernel> scale_, scale_empty_;  // gemm's beta * z (ScaleProgram)
};

// reshape: the host's kernel makes the view (input 1, the shape, is on the host); a value not
// laid out contiguously is first copied so on the device (the elementwise kernel of a bare value).
class ReshapeKernel final : public backends::Kernel {
 public:
  ReshapeKernel(const ir::Apply& node, std::shared_ptr<DeviceRuntime> device)
      : copy_(DeviceElementwise{BareProgram(node.inputs[0]->type.dtype)}, std::move(device)) {}

  absl::Status Init(const ir::Apply& node) {
    TENSORD_ASSIGN_OR_RETURN(view_, cpu::MakeNodeKernel(node));
    return absl::OkStatus();
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (in[0]->is_contiguous()) return view_->Run(in, out);
    Tensor packed;
    const Tensor* x_in[] = {in[0]};
    Tensor* packed_out[] = {&packed};
    TENSORD_RETURN_IF_ERROR(copy_.Run(x_in, packed_out));
    const Tensor* view_in[] = {&packed, in[1]};
    return view_->Run(view_in, out);
  }

 private:
  CompositeKernel copy_;
  std::unique_ptr<backends::Kernel> view_;
};

// arange: its bounds read on the host (inputs 0-2), its values made on the device as the host
// makes them (NumPy's fill: value[0] and value[1] from start and start + step, then
// value[0] + i * (value[1] - value[0])).
class ArangeKernel final : public backends::Kernel {
 public:
  ArangeKernel(DType dtype, std::shared_ptr<DeviceRuntime> device)
      : dtype_(dtype), device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    ops::creation::Number bounds[3];
    for (int k = 0; k < 3; ++k) {
      if (!in[k]->host_accessible()) return Internal("arange's bounds are on a device");
      TENSORD_ASSIGN_OR_RETURN(bounds[k], ops::creation::ReadNumber(*in[k]));
    }
    const auto& [start, stop, step] = bounds;
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ops::creation::ArangeLength(start, stop, step));
    Tensor& y = *out[0];
    TENSORD_RETURN_IF_ERROR(y.Reshape(dtype_, {n}));
    if (n == 0) return absl::OkStatus();
    const bool floats = dtype_ == DType::kFloat32 || dtype_ == DType::kFloat64;
    const std::string type = CudaCType(dtype_);
    const std::string source = absl::StrCat(
        "typedef ", type, " T;\n",
        "extern \"C\" __global__ void tensord_arange(T* out, long long n, ", "T v0, T v1, ",
        floats ? "T" : "long long", " delta) {\n",
        "  const long long step = (long long)blockDim.x * gridDim.x;\n",
        "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += "
        "step)\n",
        "    out[i] = i == 1 ? v1 : ", floats ? "v0 + (T)i * delta" : "(T)(v0 + i * delta)",
        ";\n}\n");
    TENSORD_ASSIGN_OR_RETURN(std::vector<KernelHandle> kernels,
                             CompiledKernels(*device_, source, {"tensord_arange"}));
    const bool ints = start.is_int && step.is_int;
    auto launch = [&](auto v0, auto v1, auto delta) {
      void* y_data = y.raw();
      void* args[] = {&y_data, &n, &v0, &v1, &delta};
      const int64_t blocks = std::min((n + kThreads - 1) / kThreads, kMostBlocks);
      return device_->Launch(kernels[0], blocks, kThreads, args);
    };
    auto values = [&](auto tag) {  // v0, v1 in the output dtype, as the host's kernel has them
      using T = decltype(tag);
      const T v0 = ints ? static_cast<T>(start.i) : static_cast<T>(start.d);
      const T v1 = ints ? static_cast<T>(start.i + step.i) : static_cast<T>(start.d + step.d);
      return std::pair<T, T>{v0, v1};
    };
    switch (dtype_) {
      case DType::kFloat32: {
        auto [v0, v1] = values(float{});
        return launch(v0, v1, v1 - v0);
      }
      case DType::kFloat64: {
        auto [v0, v1] = values(double{});
        return launch(v0, v1, v1 - v0);
      }
      case DType::kInt32: {
        auto [v0, v1] = values(int32_t{});
        return launch(v0, v1, static_cast<long long>(static_cast<int32_t>(v1 - v0)));
      }
      case DType::kInt64: {
        auto [v0, v1] = values(int64_t{});
        return launch(v0, v1, static_cast<long long>(v1 - v0));
      }
      default:
        return Unimplemented("arange of ", DTypeName(dtype_), " on a GPU");
    }
  }

 private:
  const DType dtype_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// batched_dot of 3-d operands, (B, n, k) x (B, k, m) -> (B, n, m): one strided batched gemm,
// each item's matrices read as row-major or transposed views, all items alike.
class BatchedProductKernel final : public backends::Kernel {
 public:
  explicit BatchedProductKernel(std::shared_ptr<DeviceRuntime> device)
      : device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    const Tensor& y = *in[1];
    if (x.shape()[2] != y.shape()[1]) {  // the host's words
      return InvalidArgument("batched_dot: shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", x.shape()[2],
                             " (dim 2) != ", y.shape()[1], " (dim 1)");
    }
    if (x.shape()[0] != y.shape()[0]) {
      return InvalidArgument("batched_dot: batch sizes differ: ", x.shape()[0], " and ",
                             y.shape()[0]);
    }
    const int64_t items = x.shape()[0], m = x.shape()[1], k = x.shape()[2], n = y.shape()[2];
    Tensor& c = *out[0];
    TENSORD_RETURN_IF_ERROR(c.Reshape(x.dtype(), {items, m, n}));
    if (c.num_elements() == 0) return absl::OkStatus();
    if (x.host_accessible() || y.host_accessible() || c.host_accessible()) {
      return Internal("an operand of a CUDA product is in host memory");
    }
    const Tensor xi = x.StridedView({m, k}, {x.strides()[1], x.strides()[2]}, 0);
    const Tensor yi = y.StridedView({k, n}, {y.strides()[1], y.strides()[2]}, 0);
    TENSORD_ASSIGN_OR_RETURN(BlasOperand a, AsBlasOperand(xi, 0));
    TENSORD_ASSIGN_OR_RETURN(BlasOperand b, AsBlasOperand(yi, 1));
    GemmBatch batch;
    batch.count = items;
    batch.stride_a = x.strides()[0];
    batch.stride_b = y.strides()[0];
    batch.stride_c = m * n;
    return device_->Gemm(x.dtype(), a.transposed, b.transposed, m, n, k, 1.0, a.data, a.ld, b.data,
                         b.ld, 0.0, c.raw(), batch);
  }

 private:
  const std::shared_ptr<DeviceRuntime> device_;
};

// batched_dot of two 3-d operands of one float dtype.
bool IsBatchedMatrixProduct(const ir::Apply& node) {
  if (node.op != "batched_dot" || node.inputs.size() != 2 || node.outputs.size() != 1) {
    return false;
  }
  const ir::Type& x = node.inputs[0]->type;
  const ir::Type& y = node.inputs[1]->type;
  return x.ndim() == 3 && y.ndim() == 3 && FloatDType(x.dtype) && y.dtype == x.dtype &&
         node.outputs[0]->type.dtype == x.dtype;
}

// Whether every input comes as the op wants it: the compiler casts on the host, which cannot
// touch a GPU's memory (switch wants a bool condition, say).
absl::Status NoHostCasts(const ir::Apply& node) {
  if (!node.def->input_dtypes) return absl::OkStatus();
  const std::vector<std::optional<DType>> wanted = node.def->input_dtypes(node);
  for (size_t k = 0; k < node.inputs.size() && k < wanted.size(); ++k) {
    const DType has = node.inputs[k]->type.dtype;
    if (wanted[k].has_value() && *wanted[k] != has) {
      return Unimplemented("input ", k, " is ", DTypeName(has), ", not the ", DTypeName(*wanted[k]),
                           " the op reads: the host would cast it");
    }
  }
  return absl::OkStatus();
}

// A product cuBLAS computes: its matrices 2-d, every input and the output of one float dtype;
// tensordot over one axis of each.
bool IsMatrixProduct(const ir::Apply& node) {
  const bool gemm = node.op == "gemm";
  if (node.op != "dot" && node.op != "tensordot" && node.op != "dot_composite" && !gemm) {
    return false;
  }
  if (node.inputs.size() < 2 || node.outputs.size() != 1 || (gemm && node.inputs.size() != 5)) {
    return false;
  }
  const ir::Type& x = node.inputs[gemm ? 2 : 0]->type;
  const ir::Type& y = node.inputs[gemm ? 3 : 1]->type;
  // dot_composite's other inputs are its program's, which converts them as it reads them.
  if (x.ndim() != 2 || y.ndim() != 2 || !FloatDType(x.dtype) || y.dtype != x.dtype ||
      node.outputs[0]->type.dtype != x.dtype ||
      (node.op != "dot_composite" && !NoHostCasts(node).ok())) {
    return false;
  }
  if (gemm) {  // z not broadcasting the product to a larger shape (the host's case alone)
    const std::vector<bool> product = {x.broadcastable[0], y.broadcastable[1]};
    return node.inputs[0]->type.ndim() <= 2 && node.inputs[1]->type.ndim() == 0 &&
           node.inputs[4]->type.ndim() == 0 && node.outputs[0]->type.broadcastable == product;
  }
  if (node.op == "tensordot") {
    auto a = ir::GetIntsAttr(node, "axes_a"), b = ir::GetIntsAttr(node, "axes_b");
    return a.ok() && b.ok() && a->size() == 1 && b->size() == 1;
  }
  return true;
}

}  // namespace

absl::StatusOr<DeviceElementwise> DeviceProgram(const ir::Apply& node) {
  if (node.def == nullptr) return Internal("node '", node.op, "' is not resolved");
  if (node.outputs.size() != 1) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  if (node.outputs[0]->type.ndim() > kMaxCompositeRank) {
    return Unimplemented("a CUDA kernel walks at most ", kMaxCompositeRank, " dims");
  }
  DeviceElementwise work;
  Program& p = work.program;
  const DType out = node.outputs[0]->type.dtype;
  // A dot_composite's program has the product for input 0, then the node's inputs from 2 on.
  const int first = node.op == "dot_composite" ? 1 : 0;
  std::vector<std::optional<DType>> wanted;  // what the host would cast each input to
  if (node.op == "cast") {                   // its input converted: a program of no instructions
    const DType in = node.inputs[0]->type.dtype;
    p = BareProgram(FloatDType(out) ? out : in);
  } else if (node.op == "composite" || node.op == "dot_composite") {
    TENSORD_ASSIGN_OR_RETURN(p, ops::composite::ParseProgram(node));
  } else {
    TENSORD_ASSIGN_OR_RETURN(p, LoneOpProgram(node));
    if (node.def->input_dtypes) wanted = node.def->input_dtypes(node);
    // A comparison or predicate computes in its operands' dtype and writes bool.
    if (out == DType::kBool && !wanted.empty() && wanted[0].has_value()) p.dtype = *wanted[0];
  }
  if (!FloatDType(p.dtype) || (out != p.dtype && out != DType::kBool)) {
    return Unimplemented(
        "a CUDA kernel computes float32 or float64 and writes that dtype or "
        "bool; this one would compute ",
        DTypeName(p.dtype), " and write ", DTypeName(out));
  }
  if (out != p.dtype) work.types.output = out;
  // Inputs of another dtype are converted as they are read, as the host's casts would convert
  // them: where the op wants them as its T (or a bool condition, which is read as T and tested
  // for nonzero: the same truth), and in an elementwise kernel (a reduction's inputs are T).
  bool converts = false;
  std::vector<DType> types(p.num_inputs, p.dtype);
  for (int k = first; k < p.num_inputs; ++k) {
    const DType has = node.inputs[k + first]->type.dtype;
    if (!p.input_read[k] || has == p.dtype) continue;
    const std::optional<DType> want =
        k + first < static_cast<int>(wanted.size()) ? wanted[k + first] : p.dtype;
    // A condition narrowed from float64 to float32 could lose its truth (1e-300 is true).
    const bool narrowed_truth =
        want == DType::kBool && has == DType::kFloat64 && p.dtype == DType::kFloat32;
    if (!p.reduce.empty() || narrowed_truth ||
        (want.has_value() && *want != p.dtype && *want != DType::kBool)) {
      return Unimplemented("input ", k + first, " is ", DTypeName(has), ", not the kernel's ",
                           DTypeName(p.dtype), ": the host would cast it");
    }
    types[k] = has;
    converts = true;
  }
  if (converts) work.types.inputs = std::move(types);
  // Every opcode with a CUDA form, every dtype readable, few enough inputs: the source generates.
  TENSORD_RETURN_IF_ERROR((p.reduce.empty() ? CompositeSource(p, 1, kKernelName, work.types)
                                            : CompositeReduceSource(p, 1, kKernelName))
                              .status());
  return work;
}

bool Supports(const ir::Apply& node) {
  if (node.def == nullptr) return false;
  if (AsDeviceReduction(node) || IsDeviceIndexing(node) || IsBatchedMatrixProduct(node)) {
    return true;
  }
  if (node.op == "reshape")
    return node.inputs.size() == 2 && FloatDType(node.inputs[0]->type.dtype);
  if (node.op == "arange") {
    const DType d = node.outputs[0]->type.dtype;
    return FloatDType(d) || d == DType::kInt32 || d == DType::kInt64;
  }
  // A transfer copies through the device; a dimshuffle is a view (the host's kernel touches no
  // element).
  if (node.op == "transfer" || node.op == "dimshuffle") return true;
  if (IsMatrixProduct(node)) return node.op != "dot_composite" || DeviceProgram(node).ok();
  if (node.op == "dot_composite") return false;  // its program alone is not the node's work
  return DeviceProgram(node).ok();
}

std::vector<int> HostInputs(const ir::Apply& node) {
  if (node.op == "reshape") return {1};
  if (node.op == "arange") return {0, 1, 2};
  return {};
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (device == nullptr) return Internal("node '", node.op, "' placed on a device with no runtime");
  if (node.op == "transfer" || node.op == "dimshuffle") return cpu::MakeNodeKernel(node);
  if (IsMatrixProduct(node)) {
    std::optional<DeviceElementwise> epilogue;
    if (node.op == "dot_composite") {
      TENSORD_ASSIGN_OR_RETURN(epilogue, DeviceProgram(node));
    }
    return std::unique_ptr<backends::Kernel>(
        new ProductKernel(node, std::move(device), std::move(epilogue)));
  }
  if (IsBatchedMatrixProduct(node)) {
    return std::unique_ptr<backends::Kernel>(new BatchedProductKernel(std::move(device)));
  }
  if (node.op == "reshape" && Supports(node)) {
    auto kernel = std::make_unique<ReshapeKernel>(node, std::move(device));
    TENSORD_RETURN_IF_ERROR(kernel->Init(node));
    return std::unique_ptr<backends::Kernel>(std::move(kernel));
  }
  if (node.op == "arange" && Supports(node)) {
    return std::unique_ptr<backends::Kernel>(
        new ArangeKernel(node.outputs[0]->type.dtype, std::move(device)));
  }
  if (node.op == "dot_composite") {
    return Unimplemented("dot_composite of operands cuBLAS does not multiply");
  }
  if (IsDeviceIndexing(node)) {
    const bool inc = node.op.find("inc") != std::string::npos;
    TENSORD_ASSIGN_OR_RETURN(std::vector<ops::subtensor::Entry> entries,
                             ops::subtensor::Entries(node, inc ? 2 : 1));
    std::vector<int> index_inputs;
    for (const ops::subtensor::Entry& e : entries) index_inputs.push_back(e.input);
    return std::unique_ptr<backends::Kernel>(
        new IndexingKernel(node, std::move(index_inputs), std::move(device)));
  }
  if (std::optional<DeviceReduction> reduction = AsDeviceReduction(node)) {
    return std::unique_ptr<backends::Kernel>(
        new AxesReduceKernel(*std::move(reduction), std::move(device)));
  }
  TENSORD_ASSIGN_OR_RETURN(DeviceElementwise work, DeviceProgram(node));
  if (!work.program.reduce.empty()) {
    return std::unique_ptr<backends::Kernel>(
        new ReduceKernel(std::move(work.program), std::move(device)));
  }
  return std::unique_ptr<backends::Kernel>(new CompositeKernel(std::move(work), std::move(device)));
}

absl::StatusOr<std::vector<int64_t>> CompositeParams(const Program& program,
                                                     std::span<const Tensor* const> inputs,
                                                     const runtime::Shape& out_shape, int* rank) {
  const int n = program.num_inputs;
  if (static_cast<int>(inputs.size()) != n) {
    return InvalidArgument("the program takes ", n, " inputs, got ", inputs.size());
  }
  std::vector<runtime::Strides> full;
  for (int k = 0; k < n; ++k) {
    if (program.input_read[k]) full.push_back(cpu::BroadcastStrides(*inputs[k], out_shape));
  }
  cpu::MergedDims merged = cpu::MergeDims(out_shape, full);
  if (merged.shape.empty()) {  // one element: a dim of 1
    merged.shape = {1};
    for (auto& s : merged.strides) s = {0};
  }
  *rank = static_cast<int>(merged.shape.size());
  if (*rank > kMaxCompositeRank) {
    return Unimplemented("a CUDA composite walks at most ", kMaxCompositeRank,
                         " dims; its operands merge to ", *rank);
  }
  std::vector<int64_t> params;
  params.push_back(runtime::NumElements(out_shape));
  params.insert(params.end(), merged.shape.begin(), merged.shape.end());
  for (int k = 0; k < n; ++k) {
    params.push_back(program.input_read[k] ? reinterpret_cast<int64_t>(inputs[k]->raw()) : 0);
  }
  for (int k = 0, read = 0; k < n; ++k) {
    if (program.input_read[k]) {
      params.insert(params.end(), merged.strides[read].begin(), merged.strides[read].end());
      ++read;
    } else {
      params.insert(params.end(), *rank, 0);
    }
  }
  return params;
}

}  // namespace tensord::cuda
