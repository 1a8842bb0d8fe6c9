// The CUDA provider's fused elementwise kernels: CUDA C++ generated from a composite program
// (engine/ops/defs/composite.h), compiled at run time with NVRTC (engine/backends/cuda/nvrtc.h)
// and cached by its source. The generator is plain C++ and builds everywhere; a test compiles
// the source of every composite opcode with NVRTC, so codegen errors fail CI without a GPU.
//
// The kernel, for a program of dtype T with N inputs over an output of rank R (its dims merged
// where every operand walks them uniformly, as the CPU kernel merges them):
//
//   struct <name>_params {
//     long long n;                      // output elements
//     long long shape[R];               // the output's (merged) shape
//     const void* in[N];                // input k: of dtype T, or as OperandTypes say
//     long long strides[N][R];          // input k's strides in elements (0 where it broadcasts)
//   };
//
// (A 0-d output is taken as rank 1 of shape {1}: R is at least 1.) Products are not fused into
// multiply-adds (nvrtc.h compiles with --fmad=false), as on the CPU.
//   extern "C" __global__ void <name>(OUT* out, const <name>_params p);  // OUT: T or bool
//
// One thread per output element in a grid-stride loop; `out` is C-contiguous. It may be an
// input's buffer (written in place): each thread reads its element's operands, then writes it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/ops/defs/composite.h"

namespace tensord::cuda {

// What one generated kernel takes at most: its parameters must fit CUDA's 4 KiB.
constexpr int kMaxCompositeInputs = 32;
constexpr int kMaxCompositeRank = 8;

// The dtypes an elementwise kernel reads and writes where they are not its program's T: input
// k is read as `inputs[k]` and converted to T (as the host's cast would, before its kernel);
// the output is written as `output`, T or bool (whether the value is nonzero, NaN included).
struct OperandTypes {
  std::vector<DType> inputs;       // empty: every input is T
  DType output = DType::kInvalid;  // kInvalid: T
};

// A value converted to `dtype` (no instructions over one input): a copy, or a cast; reduced, a
// bare value's fold.
ops::composite::Program BareProgram(DType dtype);

// The dtypes a kernel computes floating-point math in (float16 is not one).
inline bool FloatDType(DType d) { return d == DType::kFloat32 || d == DType::kFloat64; }

// Whether converting `from` into `to` on a GPU could differ from the host's cast: a float into
// an integer, which a GPU saturates (and makes NaN 0) where the host's conversion wraps or is
// undefined. Kernels leave such conversions to the host.
inline bool GpuConvertsOtherwise(DType from, DType to) { return FloatDType(from) && IsInteger(to); }

// Whether a kernel computes `program` in its dtype (float32, float64, an integer dtype or bool)
// and folds it as its `reduce` says (FoldsIn in the source: floats by sum, mean, prod, max and
// min; integers by all of those but mean; bool by all and any): every instruction has a form in
// that dtype (CudaExpression: an integer or bool one is NumPy's wrapping arithmetic; bool's sum
// is or, its product and), and an integer or bool program's constants convert into it exactly.
bool ComputesIn(const ops::composite::Program& program);

// The CUDA C++ source of `program`'s kernel over outputs of rank `rank`, named `name`. A
// program of no instructions over one input is that input converted to T (a cast).
// UNIMPLEMENTED for a program over kMaxCompositeInputs inputs or kMaxCompositeRank dims, or one
// that reduces (CompositeReduceSource); INVALID_ARGUMENT for an opcode with no CUDA form, a
// program no kernel computes (ComputesIn), and operand types no kernel reads or writes.
absl::StatusOr<std::string> CompositeSource(const ops::composite::Program& program, int rank,
                                            const std::string& name,
                                            const OperandTypes& types = {});

// A reducing program's two kernels (program.reduce: sum, mean, prod, max or min of every element
// of a float program; sum, prod, max or min of an integer one; all or any of a bool one), launched
// with kReduceThreads threads per block. They fold in an accumulator A of 8 bytes: double for
// floats; for integers 64 bits, unsigned for sums and products (which wrap as NumPy's once
// narrowed to T, in any order), of T's signedness for max and min; 0 or 1 for all and any.
//   extern "C" __global__ void <name>(A* partials, const <name>_params p);
// folds the elements each block's threads walk (grid-stride) into partials[blockIdx.x], then
//   extern "C" __global__ void <name>_finish(T* out, const A* partials, long long count,
//                                            long long n);
// one block, folds the `count` partials into out[0] (a mean divides by n, the element count).
// Folds go in a fixed tree per block, so a grid size gives the same bits run after run.
// A program of no instructions over one input reduces that input's values (a bare value),
// read as `types.inputs` says (the mean of a bool value, each read as 0 or 1 in T).
constexpr int kReduceThreads = 256;
absl::StatusOr<std::string> CompositeReduceSource(const ops::composite::Program& program, int rank,
                                                  const std::string& name,
                                                  const OperandTypes& types = {});

// A reducing program's kernels for a reduction over some axes. The operands are walked as
// [kept dims..., reduced dims...] (merged to `rank`), so element (o, r) is flat index
// o * reduced + r and output o (C-contiguous) folds its `reduced` elements, in A (above):
//   extern "C" __global__ void <name>_by_block(T* out, const <name>_params p,
//                                              long long outputs, long long reduced);
// a block per output (grid-stride over outputs), its kReduceThreads threads walking the
// output's elements, then the block's fixed tree: for long rows read contiguously;
//   extern "C" __global__ void <name>_by_thread(... the same ...);
// a thread per output, walking its elements in order: for many outputs, where neighbouring
// threads read neighbouring elements (a column sum). Either gives the same bits run after run,
// whatever the grid. A mean divides by `reduced` (no elements: NaN); a sum of none is 0.
absl::StatusOr<std::string> CompositeReduceAxesSource(const ops::composite::Program& program,
                                                      int rank, const std::string& name,
                                                      const OperandTypes& types = {});

// The C++ type of `dtype`'s elements in a kernel ("float", "long long", "bool"); empty for one
// no kernel reads or writes (float16).
std::string CudaCType(DType dtype);

// The code standing in the CUDA provider's programs for lone elementwise op `op_name`, one the
// fusion pass leaves alone (no opcode) but a kernel computes: floor division, remainder and the
// bitwise ops. Negative, so no fusion opcode is one; nullopt for any other op.
std::optional<int> LoneOpcode(const std::string& op_name);

// The type arithmetic in `dtype` is done in (U in the expressions below): for an integer or bool
// dtype an unsigned type of at least 32 bits as wide as it, where sums, differences and products
// wrap as NumPy's do once converted back (to bool: whether nonzero), and no promotion to a signed
// int can overflow; for a float dtype its own C++ type.
std::string CudaArithmeticType(DType dtype);

// The CUDA expression of fusable op `op_name` computing in `dtype` ($0..$2 its arguments, T the
// program's dtype, U its CudaArithmeticType), or empty when the CUDA provider has
// none: every fusable op has one for each dtype its scalar form computes in (a test checks).
std::string CudaExpression(const std::string& op_name, DType dtype);

}  // namespace tensord::cuda
