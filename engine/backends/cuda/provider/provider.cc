#include "engine/backends/cuda/provider/provider.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/arg_reduce.h"
#include "engine/backends/cuda/provider/batch_norm_kernels.h"
#include "engine/backends/cuda/provider/categorical_kernels.h"
#include "engine/backends/cuda/provider/conv_kernels.h"
#include "engine/backends/cuda/provider/cumop_kernels.h"
#include "engine/backends/cuda/provider/indexing.h"
#include "engine/backends/cuda/provider/moment_kernels.h"
#include "engine/backends/cuda/provider/neighbour_kernels.h"
#include "engine/backends/cuda/provider/pool_kernels.h"
#include "engine/backends/cuda/provider/product_kernels.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/random_kernels.h"
#include "engine/backends/cuda/provider/reduce_axes.h"
#include "engine/backends/cuda/provider/shape_kernels.h"
#include "engine/backends/cuda/provider/sort_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"

namespace tensord::cuda {
namespace {

using ops::composite::Program;
using runtime::Tensor;

constexpr char kKernelName[] = "tensord_composite";

// A lone fusable op as a program of one instruction over its inputs; a variadic one (add, mul
// of three or more) as the host computes it, folded left: ((in0 op in1) op in2) ...
absl::StatusOr<Program> LoneOpProgram(const ir::Apply& node) {
  // A fusable op by its opcode; floor division, remainder and the bitwise ops by their own code.
  const int opcode =
      node.def->FusionOpcode() > 0 ? node.def->FusionOpcode() : LoneOpcode(node.op).value_or(0);
  const int arity = static_cast<int>(node.inputs.size());
  const int takes = opcode == 0 ? -1 : node.def->scalar->arity;
  const bool folds = takes == 2 && node.def->max_inputs == -1 && arity > 2;
  if (opcode == 0 || node.outputs.size() != 1 || (arity != takes && !folds)) {
    return Unimplemented("op '", node.op, "' with ", arity, " inputs has no CUDA kernel");
  }
  Program p;
  p.dtype = node.outputs[0]->type.dtype;
  p.num_inputs = arity;
  ops::composite::Instr ins;
  ins.op = opcode;
  for (int k = 0; k < takes; ++k) ins.args[k] = k;
  p.code.push_back(ins);
  for (int k = takes; folds && k < arity; ++k) {  // the last result (register arity + j) op in k
    ops::composite::Instr next;
    next.op = opcode;
    next.args[0] = arity + static_cast<int>(p.code.size()) - 1;
    next.args[1] = k;
    p.code.push_back(next);
  }
  p.input_read.assign(arity, true);
  return p;
}

// Nodes whose host kernel touches no element of a device's value (Supports says why).
bool RunsAsTheHosts(const ir::Apply& node) {
  return node.op == "transfer" || node.op == "dimshuffle" || node.op == "ifelse" ||
         node.op == "specify_shape" || node.op == "print";
}

// Whether a scan runs on the device: every value it loops over is of a dtype the device holds,
// and every node of its body runs there (a shape is read on the host, where placement puts it).
// The body is checked as the client built it: a rewrite the device refuses makes the function's
// compile fail, or with cpu_fallback runs that node on the host.
bool BodyRunsOnDevice(const ir::Apply& node) {
  if (node.bodies.size() != 1 || node.bodies[0] == nullptr) return false;
  for (const auto* values : {&node.inputs, &node.outputs}) {
    for (size_t k = values == &node.inputs ? 1 : 0; k < values->size(); ++k) {
      if (CudaCType((*values)[k]->type.dtype).empty()) return false;
    }
  }
  for (const auto& a : node.bodies[0]->applies()) {
    if (a->op != "shape" && a->op != "shape_i" && !Supports(*a)) return false;
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
    // Into a float, or from an integer or bool into an integer (NumPy's astype keeps the low
    // bits, as the conversion in T does), it computes in the output's dtype; else in the
    // input's (into bool: whether it is nonzero). A float into an integer is computed in the
    // float and refused below: a GPU saturates where the host's conversion is undefined.
    const DType in = node.inputs[0]->type.dtype;
    const bool integers = !FloatDType(in) && in != DType::kFloat16 && !FloatDType(out) &&
                          out != DType::kFloat16 && out != DType::kBool;
    p = BareProgram(FloatDType(out) || integers ? out : in);
  } else if (node.op == "composite" || node.op == "dot_composite") {
    TENSORD_ASSIGN_OR_RETURN(p, ops::composite::ParseProgram(node));
  } else {
    TENSORD_ASSIGN_OR_RETURN(p, LoneOpProgram(node));
    if (node.def->input_dtypes) wanted = node.def->input_dtypes(node);
    // A comparison or predicate computes in its operands' dtype and writes bool.
    if (out == DType::kBool && !wanted.empty() && wanted[0].has_value()) p.dtype = *wanted[0];
  }
  // An integer scalar compared or cast is shape logic, which the host reads: it stays there (a
  // node of host scalars the device does not run goes to the host, placement.h).
  if (!FloatDType(p.dtype) && node.outputs[0]->type.ndim() == 0) {
    return Unimplemented("integer scalars (shape logic) stay on the host");
  }
  if (!ComputesIn(p) || (out != p.dtype && out != DType::kBool)) {
    return Unimplemented(
        "a CUDA kernel computes float32 or float64, integer arithmetic or comparisons, and "
        "writes that dtype or bool; this one would compute ",
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
    // A float read into integer arithmetic (a switch's condition: 0.5 is true) would be
    // truncated.
    if (FloatDType(has) && !FloatDType(p.dtype)) {
      return Unimplemented("input ", k + first, " is ", DTypeName(has), ", read by ",
                           DTypeName(p.dtype), " arithmetic: the host keeps it");
    }
    const std::optional<DType> want =
        k + first < static_cast<int>(wanted.size()) ? wanted[k + first] : p.dtype;
    // A condition read narrower than it is could lose its truth: 1e-300 as float32, 256 as
    // int8 (the host tests the condition itself); a nonzero integer is a nonzero float.
    const bool narrowed_truth = want == DType::kBool && DTypeSize(has) > DTypeSize(p.dtype) &&
                                !(IsInteger(has) && FloatDType(p.dtype));
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
  if (AsDeviceReduction(node) || IsDeviceIndexing(node) || IsBatchedMatrixProduct(node) ||
      IsDeviceSampling(node) || IsDeviceSort(node) || IsDeviceViewWrite(node) ||
      IsDeviceArgReduction(node) || IsDeviceConv(node) || IsDevicePool(node) ||
      IsDeviceBatchNorm(node) || IsDeviceMoment(node) || IsDeviceCumop(node) ||
      IsDeviceCategorical(node) || IsDeviceNeibs(node)) {
    return true;
  }
  if (node.op == "reshape" || node.op == "flatten") {  // a value not contiguous is copied
    return !CudaCType(node.inputs[0]->type.dtype).empty() &&
           node.inputs[0]->type.ndim() <= kMostWriteDims;
  }
  if (node.op == "subtensor") return true;  // a view: no element is touched
  // A scan's loop issues its body's kernels on the device (its n_steps read on the host).
  if (node.op == "scan" || node.op == "scan_grad") return BodyRunsOnDevice(node);
  if (node.op == "arange") {
    const DType d = node.outputs[0]->type.dtype;
    return FloatDType(d) || d == DType::kInt32 || d == DType::kInt64;
  }
  // A transfer copies through the device; the others touch no element of a device's value, so
  // the host's kernel runs them: a dimshuffle is a view, ifelse hands on one branch (its
  // condition read on the host), specify_shape checks a shape (read on the host) and print
  // passes its value on (the client fetches it as an extra output).
  if (RunsAsTheHosts(node)) return true;
  if (IsMatrixProduct(node)) return node.op != "dot_composite" || DeviceProgram(node).ok();
  if (node.op == "dot_composite") return false;  // its program alone is not the node's work
  return DeviceProgram(node).ok();
}

std::vector<int> HostInputs(const ir::Apply& node) {
  auto from = [&](int first) {  // inputs first, first + 1, ...
    std::vector<int> inputs;
    for (int k = first; k < static_cast<int>(node.inputs.size()); ++k) inputs.push_back(k);
    return inputs;
  };
  if (node.op == "reshape") return {1};
  if (node.op == "subtensor") return from(1);                   // its symbolic index scalars
  if (node.op == "inc_subtensor") return from(2);               // the same, after x and y
  if (node.op == "alloc") return from(1);                       // its dims
  if (node.op == "repeat") return {1};                          // its counts
  if (IsDeviceIndexing(node)) return IndexingHostInputs(node);  // its slices' bounds
  if (node.op == "conv_grad_inputs" || node.op == "conv_grad_weights") return {2};  // a shape
  if (node.op == "neibs2images") return {1};                                        // a shape
  if (node.op == "specify_shape") return {1};                                       // the shape
  if (node.op == "ifelse") return {0};                                              // its condition
  if (node.op == "arange") return {0, 1, 2};
  if (IsDeviceBinomial(node)) return BinomialHostInputs(node);        // the size (n and p if one)
  if (IsDeviceSampling(node)) return {1};                             // the size
  if (IsDeviceCategorical(node)) return CategoricalHostInputs(node);  // the size, n or a's size
  if (node.op == "scan" || node.op == "scan_grad") return {0};        // n_steps
  return {};
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (device == nullptr) return Internal("node '", node.op, "' placed on a device with no runtime");
  if (RunsAsTheHosts(node)) return cpu::MakeNodeKernel(node);
  if (IsMatrixProduct(node)) {
    std::optional<DeviceElementwise> epilogue;
    if (node.op == "dot_composite") {
      TENSORD_ASSIGN_OR_RETURN(epilogue, DeviceProgram(node));
    }
    return MakeProductKernel(node, std::move(device), std::move(epilogue));
  }
  if (IsBatchedMatrixProduct(node)) {
    return MakeBatchedProductKernel(node, std::move(device));
  }
  if ((node.op == "reshape" || node.op == "flatten") && Supports(node)) {
    return MakeReshapeKernel(node, std::move(device));
  }
  if (node.op == "subtensor") return MakeViewKernel(node);
  if (node.op == "arange" && Supports(node)) {
    return MakeArangeKernel(node.outputs[0]->type.dtype, std::move(device));
  }
  if (node.op == "dot_composite") {
    return Unimplemented("dot_composite of operands cuBLAS does not multiply");
  }
  if (IsDeviceIndexing(node)) return MakeIndexingKernel(node, std::move(device));
  if (IsDeviceSampling(node)) return MakeSamplingKernel(node, std::move(device));
  if (IsDeviceCategorical(node)) return MakeCategoricalKernel(node, std::move(device));
  if (IsDeviceSort(node)) return MakeSortKernel(node, std::move(device));
  if (IsDeviceViewWrite(node)) return MakeViewWriteKernel(node, std::move(device));
  if (IsDeviceArgReduction(node)) return MakeArgReduceKernel(node, std::move(device));
  if (IsDeviceConv(node)) return MakeConvKernel(node, std::move(device));
  if (IsDevicePool(node)) return MakePoolKernel(node, std::move(device));
  if (IsDeviceNeibs(node)) return MakeNeibsKernel(node, std::move(device));
  if (IsDeviceBatchNorm(node)) return MakeBatchNormKernel(node, std::move(device));
  if (IsDeviceMoment(node)) return MakeMomentKernel(node, std::move(device));
  if (IsDeviceCumop(node)) return MakeCumopKernel(node, std::move(device));
  if (std::optional<DeviceReduction> reduction = AsDeviceReduction(node)) {
    return MakeAxesReduceKernel(*std::move(reduction), std::move(device));
  }
  TENSORD_ASSIGN_OR_RETURN(DeviceElementwise work, DeviceProgram(node));
  if (!work.program.reduce.empty()) {
    return MakeReduceKernel(std::move(work.program), std::move(device));
  }
  return MakeElementwiseKernel(std::move(work), std::move(device));
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
