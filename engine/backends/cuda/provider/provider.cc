#include "engine/backends/cuda/provider/provider.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/launch.h"
#include "engine/backends/cuda/nvrtc.h"
#include "engine/common/status.h"

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

// The kernels named `names` of `source`, compiled by NVRTC once in this process per
// architecture and source: functions and nodes computing the same program share them.
absl::StatusOr<std::vector<KernelHandle>> CompiledKernels(const std::string& arch,
                                                          const std::string& source,
                                                          const std::vector<std::string>& names) {
  static std::mutex mu;
  static auto* compiled = new std::map<std::string, std::vector<KernelHandle>>();
  const std::string key = absl::StrCat(arch, "\n", source);
  std::lock_guard<std::mutex> lock(mu);  // compiling twice would only waste time
  if (auto it = compiled->find(key); it != compiled->end()) return it->second;
  const NvrtcResult ptx = CompileToPtx(source, "tensord_composite.cu", arch);
  if (!ptx.ok) return Internal("NVRTC could not compile a composite kernel: ", ptx.log);
  TENSORD_ASSIGN_OR_RETURN(std::vector<KernelHandle> kernels, LoadKernels(ptx.ptx, names));
  compiled->emplace(key, kernels);
  return kernels;
}

// What the kernels of a program share: its code, the device, the kernels compiled per merged
// rank, and the operands' preparation.
class ProgramKernel : public backends::Kernel {
 public:
  ProgramKernel(Program program, int ordinal) : program_(std::move(program)), ordinal_(ordinal) {}

 protected:
  // The program's kernels for operands of merged rank `rank` (the elementwise kernel, or a
  // reduction's two), compiled on a node's first run of that rank and kept.
  absl::StatusOr<std::vector<KernelHandle>> KernelsFor(int rank) {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<KernelHandle>& kept = by_rank_[rank];
    if (!kept.empty()) return kept;
    const bool reduces = !program_.reduce.empty();
    TENSORD_ASSIGN_OR_RETURN(std::string source,
                             reduces ? CompositeReduceSource(program_, rank, kKernelName)
                                     : CompositeSource(program_, rank, kKernelName));
    TENSORD_ASSIGN_OR_RETURN(std::string arch, ComputeArchitecture(ordinal_));
    std::vector<std::string> names = {kKernelName};
    if (reduces) names.push_back(absl::StrCat(kKernelName, "_finish"));
    TENSORD_ASSIGN_OR_RETURN(kept, CompiledKernels(arch, source, names));
    return kept;
  }

  absl::Status CheckInputCount(size_t inputs) const {
    if (static_cast<int>(inputs) == program_.num_inputs) return absl::OkStatus();
    return Internal("the program takes ", program_.num_inputs, " inputs, got ", inputs);
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
  const int ordinal_;

 private:
  std::mutex mu_;
  std::array<std::vector<KernelHandle>, kMaxCompositeRank + 1> by_rank_;
};

// An elementwise program: one thread per output element.
class CompositeKernel final : public ProgramKernel {
 public:
  using ProgramKernel::ProgramKernel;

  absl::Status Run(std::span<const Tensor* const> in_slots, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(CheckInputCount(in_slots.size()));
    std::vector<const Tensor*> in(in_slots.begin(), in_slots.end());
    std::vector<const runtime::Shape*> shapes;
    for (const Tensor* t : in) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, cpu::BroadcastShapes(shapes));
    Tensor& y = *out[0];
    // An input donated to the output is the output's own Tensor (the executable's inplace
    // plan). Each thread reads its element's operands, then writes the element, so it is
    // written in place when laid out as the output; otherwise `donor` keeps it while the
    // output gets a buffer of its own.
    Tensor donor;
    const bool donated = std::find(in.begin(), in.end(), &y) != in.end();
    const bool in_place = donated && y.buffer() != nullptr && y.dtype() == program_.dtype &&
                          y.shape() == shape && y.is_contiguous();
    if (donated && !in_place) {
      donor = y;
      std::replace(in.begin(), in.end(), static_cast<const Tensor*>(&y),
                   static_cast<const Tensor*>(&donor));  // wherever it is read
      y = Tensor();
    }
    if (!in_place) TENSORD_RETURN_IF_ERROR(y.Reshape(program_.dtype, shape));
    if (y.num_elements() == 0) return absl::OkStatus();
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    std::vector<Tensor> uploaded;
    TENSORD_RETURN_IF_ERROR(UploadHostInputs(in, y.buffer()->counter(), uploaded));
    int rank = 0;
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> params,
                             CompositeParams(program_, in, shape, &rank));
    TENSORD_ASSIGN_OR_RETURN(std::vector<KernelHandle> kernels, KernelsFor(rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, params.data()};
    const int64_t blocks = std::min((y.num_elements() + kThreads - 1) / kThreads, kMostBlocks);
    return Launch(kernels[0], ordinal_, blocks, kThreads, args);
  }
};

// A program reduced over every element (sum, mean, max, min), in two launches: blocks fold
// their elements into partials (in double), then one block folds the partials.
class ReduceKernel final : public ProgramKernel {
 public:
  using ProgramKernel::ProgramKernel;

  absl::Status Run(std::span<const Tensor* const> in_slots, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(CheckInputCount(in_slots.size()));
    std::vector<const Tensor*> in(in_slots.begin(), in_slots.end());
    std::vector<const runtime::Shape*> shapes;
    for (const Tensor* t : in) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, cpu::BroadcastShapes(shapes));
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
    TENSORD_ASSIGN_OR_RETURN(std::vector<KernelHandle> kernels, KernelsFor(rank));
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
      TENSORD_RETURN_IF_ERROR(Launch(kernels[0], ordinal_, blocks, kReduceThreads, args));
    }
    void* y_data = y.raw();
    int64_t count = blocks, elements = n;
    void* finish_args[] = {&y_data, &partials_data, &count, &elements};
    return Launch(kernels[1], ordinal_, 1, kReduceThreads, finish_args);
  }

 private:
  static constexpr int64_t kMostReduceBlocks = 1024;
};

// A 2-d operand as cuBLAS reads it: row-major (unit column stride) or a transposed view of a
// row-major matrix (unit row stride), with its leading dimension; UNIMPLEMENTED for any other
// strides (nothing on the device makes such a view yet).
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
  return Unimplemented("dot: input ", which, " is a strided view cuBLAS cannot read");
}

// dot of two matrices of one float dtype, by cuBLAS.
class DotKernel final : public backends::Kernel {
 public:
  explicit DotKernel(int ordinal) : ordinal_(ordinal) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    const Tensor& y = *in[1];
    if (x.shape()[1] != y.shape()[0]) {
      return InvalidArgument("dot: shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", x.shape()[1],
                             " (dim 1) != ", y.shape()[0], " (dim 0)");
    }
    if (x.host_accessible() || y.host_accessible()) {
      return Internal("an input of a CUDA product is in host memory");
    }
    TENSORD_ASSIGN_OR_RETURN(BlasOperand a, AsBlasOperand(x, 0));
    TENSORD_ASSIGN_OR_RETURN(BlasOperand b, AsBlasOperand(y, 1));
    Tensor& z = *out[0];
    const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
    TENSORD_RETURN_IF_ERROR(z.Reshape(x.dtype(), {m, n}));
    if (z.num_elements() > 0 && z.host_accessible()) {
      return Internal("the output of a CUDA product is in host memory");
    }
    return Gemm(ordinal_, x.dtype(), a.transposed, b.transposed, m, n, k, 1.0, a.data, a.ld, b.data,
                b.ld, 0.0, z.raw());
  }

 private:
  const int ordinal_;
};

// dot(x, y) of two matrices of one float dtype, the output of that dtype: what cuBLAS computes.
bool IsMatrixProduct(const ir::Apply& node) {
  if (node.op != "dot" || node.inputs.size() != 2 || node.outputs.size() != 1) return false;
  const ir::Type& x = node.inputs[0]->type;
  const ir::Type& y = node.inputs[1]->type;
  return x.ndim() == 2 && y.ndim() == 2 && FloatDType(x.dtype) && y.dtype == x.dtype &&
         node.outputs[0]->type.dtype == x.dtype;
}

}  // namespace

absl::StatusOr<Program> DeviceProgram(const ir::Apply& node) {
  if (node.def == nullptr) return Internal("node '", node.op, "' is not resolved");
  Program p;
  if (node.op == "composite") {
    TENSORD_ASSIGN_OR_RETURN(p, ops::composite::ParseProgram(node));
  } else {
    TENSORD_ASSIGN_OR_RETURN(p, LoneOpProgram(node));
  }
  if (!FloatDType(p.dtype) || node.outputs[0]->type.dtype != p.dtype) {
    return Unimplemented("a CUDA kernel computes float32 or float64 and outputs that dtype");
  }
  // The compiler casts an input to what the op wants on the host, which cannot touch a GPU's
  // memory: every input must come as it is wanted (switch wants a bool condition, say).
  std::vector<std::optional<DType>> wanted(node.inputs.size());
  if (node.def->input_dtypes) wanted = node.def->input_dtypes(node);
  for (int k = 0; k < p.num_inputs; ++k) {
    const DType has = node.inputs[k]->type.dtype;
    if ((p.input_read[k] && has != p.dtype) || (wanted[k].has_value() && *wanted[k] != has)) {
      return Unimplemented("input ", k, " is ", DTypeName(has), ", not the ",
                           DTypeName(wanted[k].value_or(p.dtype)),
                           " the kernel reads: the host would cast it");
    }
  }
  // Every opcode with a CUDA form, and few enough inputs: the source generates.
  TENSORD_RETURN_IF_ERROR((p.reduce.empty() ? CompositeSource(p, 1, kKernelName)
                                            : CompositeReduceSource(p, 1, kKernelName))
                              .status());
  return p;
}

bool Supports(const ir::Apply& node) {
  return node.def != nullptr &&
         (node.op == "transfer" || IsMatrixProduct(node) || DeviceProgram(node).ok());
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(const ir::Apply& node,
                                                                 int ordinal) {
  // The host's transfer kernel copies into (and out of) a GPU through the device's copies.
  if (node.op == "transfer") return cpu::MakeNodeKernel(node);
  if (IsMatrixProduct(node)) return std::unique_ptr<backends::Kernel>(new DotKernel(ordinal));
  TENSORD_ASSIGN_OR_RETURN(Program program, DeviceProgram(node));
  if (!program.reduce.empty()) {
    return std::unique_ptr<backends::Kernel>(new ReduceKernel(std::move(program), ordinal));
  }
  return std::unique_ptr<backends::Kernel>(new CompositeKernel(std::move(program), ordinal));
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
