#include "engine/backends/cuda/provider/provider.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/provider.h"
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
  if (opcode < 0 || node.outputs.size() != 1 || arity > 3) {
    return Unimplemented("op '", node.op, "' has no CUDA kernel");
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

// The kernels NVRTC compiled in this process, by architecture and source: functions and nodes
// computing the same program share one.
absl::StatusOr<KernelHandle> CompiledKernel(const std::string& arch, const std::string& source) {
  static std::mutex mu;
  static auto* compiled = new std::map<std::string, KernelHandle>();
  const std::string key = absl::StrCat(arch, "\n", source);
  std::lock_guard<std::mutex> lock(mu);  // compiling twice would only waste time
  if (auto it = compiled->find(key); it != compiled->end()) return it->second;
  const NvrtcResult ptx = CompileToPtx(source, "tensord_composite.cu", arch);
  if (!ptx.ok) return Internal("NVRTC could not compile a composite kernel: ", ptx.log);
  TENSORD_ASSIGN_OR_RETURN(KernelHandle kernel, LoadKernel(ptx.ptx, kKernelName));
  compiled->emplace(key, kernel);
  return kernel;
}

class CompositeKernel final : public backends::Kernel {
 public:
  CompositeKernel(Program program, int ordinal) : program_(std::move(program)), ordinal_(ordinal) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    std::vector<const runtime::Shape*> shapes;
    for (const Tensor* t : in) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, cpu::BroadcastShapes(shapes));
    Tensor& y = *out[0];
    // Each thread reads its element's operands, then writes the element: an output sharing a
    // buffer with an input is safe only where that input is laid out as the output.
    for (const Tensor* t : in) {
      if (y.buffer() != nullptr && t->buffer() == y.buffer() &&
          !(t->shape() == shape && t->is_contiguous() && t->raw() == y.raw())) {
        y = Tensor();
      }
    }
    TENSORD_RETURN_IF_ERROR(y.Reshape(program_.dtype, shape));
    if (y.num_elements() == 0) return absl::OkStatus();
    int rank = 0;
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> params,
                             CompositeParams(program_, in, shape, &rank));
    for (int k = 0; k < program_.num_inputs; ++k) {
      if (program_.input_read[k] && in[k]->host_accessible()) {
        return Internal("input ", k, " of a CUDA kernel is in host memory");
      }
    }
    if (y.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    TENSORD_ASSIGN_OR_RETURN(KernelHandle kernel, KernelFor(rank));
    void* y_data = y.raw();
    void* args[] = {&y_data, params.data()};
    const int64_t blocks = std::min((y.num_elements() + kThreads - 1) / kThreads, kMostBlocks);
    return Launch(kernel, ordinal_, blocks, kThreads, args);
  }

 private:
  // The compiled kernel for outputs of merged rank `rank`, kept per node after the first run.
  absl::StatusOr<KernelHandle> KernelFor(int rank) {
    std::atomic<KernelHandle>& kept = by_rank_[rank];
    if (KernelHandle k = kept.load(std::memory_order_acquire)) return k;
    TENSORD_ASSIGN_OR_RETURN(std::string source, CompositeSource(program_, rank, kKernelName));
    TENSORD_ASSIGN_OR_RETURN(std::string arch, ComputeArchitecture(ordinal_));
    TENSORD_ASSIGN_OR_RETURN(KernelHandle k, CompiledKernel(arch, source));
    kept.store(k, std::memory_order_release);
    return k;
  }

  const Program program_;
  const int ordinal_;
  std::array<std::atomic<KernelHandle>, kMaxCompositeRank + 1> by_rank_{};
};

}  // namespace

absl::StatusOr<Program> DeviceProgram(const ir::Apply& node) {
  if (node.def == nullptr) return Internal("node '", node.op, "' is not resolved");
  Program p;
  if (node.op == "composite") {
    TENSORD_ASSIGN_OR_RETURN(p, ops::composite::ParseProgram(node));
  } else {
    TENSORD_ASSIGN_OR_RETURN(p, LoneOpProgram(node));
  }
  if (!p.reduce.empty()) return Unimplemented("a reducing composite has no CUDA kernel yet");
  if (!FloatDType(p.dtype) || node.outputs[0]->type.dtype != p.dtype) {
    return Unimplemented("a CUDA kernel computes float32 or float64 and outputs that dtype");
  }
  for (int k = 0; k < p.num_inputs; ++k) {
    if (p.input_read[k] && node.inputs[k]->type.dtype != p.dtype) {
      return Unimplemented("input ", k, " is ", DTypeName(node.inputs[k]->type.dtype),
                           ", not the kernel's ", DTypeName(p.dtype), ": the host would cast it");
    }
  }
  // Every opcode with a CUDA form, and few enough inputs: the source generates.
  TENSORD_RETURN_IF_ERROR(CompositeSource(p, 1, kKernelName).status());
  return p;
}

bool Supports(const ir::Apply& node) {
  return node.def != nullptr && (node.op == "transfer" || DeviceProgram(node).ok());
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(const ir::Apply& node,
                                                                 int ordinal) {
  // The host's transfer kernel copies into (and out of) a GPU through the device's copies.
  if (node.op == "transfer") return cpu::MakeNodeKernel(node);
  TENSORD_ASSIGN_OR_RETURN(Program program, DeviceProgram(node));
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
