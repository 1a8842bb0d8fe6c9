// The CUDA execution provider (issue 16): which nodes a cudaN (or emulated emuN) context runs,
// and their kernels. So far:
// - transfers (the host's transfer kernel, which copies through the device) and views made
//   from metadata by the host's kernels: dimshuffle, subtensor (basic indexing), reshape,
//   flatten;
// - elementwise work: fused composites and full reductions of them, lone fusable ops, floor
//   division, remainder, the bitwise ops and casts, computing in float32, float64, an integer
//   dtype (NumPy's wrapping) or bool, inputs of other dtypes converted as read; comparisons
//   (program_kernels.h);
// - reductions (sum, mean, prod, max, min, all, any) over any axes and sum_to_like, a value of
//   another dtype converted as read (reduce_axes.h); var and std (moment_kernels.h); cumsum
//   and cumprod (cumop_kernels.h);
// - products on cuBLAS: dot (of an n-d value too), tensordot over blocks of dims at an end of
//   each operand, gemm, dot_composite, batched_dot of 2-d or 3-d operands, x of more dims too
//   (product_kernels.h);
// - integer-array indexing, its increment and assignment (indexing.h), and arange
//   (shape_kernels.h);
// - uniform, normal and binomial random streams (random_kernels.h), sort and argsort
//   (sort_kernels.h), join, inc_subtensor, alloc, tile and repeat (view_writes.h), argmax,
//   argmin and max_and_argmax (arg_reduce.h);
// - convolution and its gradients as im2col + cuBLAS (conv_kernels.h), pooling and its
//   gradients (pool_kernels.h), batch normalization and its gradient (batch_norm_kernels.h);
// - scan and scan_grad whose bodies run here (compile/scan_kernel.h places the body on the
//   device; value_moves.h does the loop's copies).
// Generated kernels are CUDA C++ (composite_source.h), compiled for the device
// (device_runtime.h: NVRTC for a GPU, the host's compiler for the emulator) once per source
// and architecture in the process, so functions share them. Other nodes are placed on the host
// (FunctionSpec.cpu_fallback) or refused by placement. Device-independent: it builds and runs
// everywhere, on the emulator where there is no GPU.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"
#include "engine/ops/defs/composite.h"

namespace tensord::cuda {

// Whether a cudaN context runs `node` (resolved): no device needed to answer.
bool Supports(const ir::Apply& node);

// The inputs of `node` its CUDA kernel reads on the host, which placement leaves there: a
// reshape's shape, a subtensor's or inc_subtensor's index scalars, alloc's dims, repeat's
// counts, arange's bounds, a sample's size, a scan's n_steps (a GPU's memory holds the data, the
// host its metadata).
std::vector<int> HostInputs(const ir::Apply& node);

// The kernel of `node` on `device` (a GPU's runtime or the emulator's), or UNIMPLEMENTED
// naming what it lacks.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNodeKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

// The elementwise work of a node on the device: the program a composite or dot_composite node,
// a lone elementwise op or a cast computes, and the dtypes its kernel reads and writes where
// they are not the program's (inputs converted as read, instead of the host's casts; a
// comparison's bool). INVALID_ARGUMENT for a bad composite, UNIMPLEMENTED for what the device
// does not compute (integer work into a scalar, a float read as an integer, a reduction's
// input of another dtype, an op with no CUDA form).
struct DeviceElementwise {
  ops::composite::Program program;
  OperandTypes types;
};
absl::StatusOr<DeviceElementwise> DeviceProgram(const ir::Apply& node);

// A composite kernel's launch parameters (composite_source.h's <name>_params, every field 8
// bytes): n, the merged shape, input k's address (`inputs[k]`, 0 for one read for its shape
// only) and its strides over the merged dims. INVALID_ARGUMENT when the shapes do not broadcast;
// UNIMPLEMENTED past kMaxCompositeRank merged dims. `rank` gets the merged rank (at least 1).
absl::StatusOr<std::vector<int64_t>> CompositeParams(const ops::composite::Program& program,
                                                     std::span<const runtime::Tensor* const> inputs,
                                                     const runtime::Shape& out_shape, int* rank);

}  // namespace tensord::cuda
