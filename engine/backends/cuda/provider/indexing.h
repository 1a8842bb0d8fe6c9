// Integer-array indexing on the CUDA provider: x[i0, i1, ...] (advanced_subtensor, and
// advanced_subtensor1's x[i]) and its increment or assignment (advanced_inc_subtensor{,1}, with
// or without set_instead_of_inc), where every index entry is an integer array, one per leading dim
// of x, the arrays broadcasting together: the cross-entropy's probs[arange(n), labels], an
// embedding lookup, and their gradients. The sources and the layout of a run are plain C++, so
// tests check them without a GPU (the emulator, host_emulation.h).
//
// The gather, for x of dtype T (float32 or float64), K index arrays of any integer dtype
// broadcasting to an index shape of rank R, and S trailing dims of x taken whole:
//   struct <name>_params {
//     long long n, block;            // output elements; trailing elements per index position
//     long long index_shape[R];
//     const void* idx[K];            // index array k, of its own integer dtype
//     long long idx_strides[K][R];   // broadcast strides (0 where it broadcasts)
//     long long dim[K], stride[K];   // the size and stride of the dim array k indexes
//     long long trail_shape[S], trail_strides[S];
//     const void* x;                 // the gather's source (of its own dtype); the scatter's y
//     long long y_strides[R + S];    // scatter only: y broadcast over index dims, trailing dims
//     unsigned long long* report;    // starts at ~0; the least k * positions + position of
//                                    // an index out of bounds (array k, C order), as the host
//                                    // names the first it meets
//   };
//   extern "C" __global__ void <name>(T* out, const <name>_params p);
// gathers out (C-contiguous: the index shape, then the trailing dims) from x; the scatter
// (<name> of ScatterSource) adds y's elements into out at the indexed places, in place, with
// atomic adds: a repeated index accumulates (numpy.add.at), in an order that may change the last
// bits from run to run; or sets them (set_instead_of_inc), where a repeated index gets one of
// its values, which one not defined on a GPU (the host's, NumPy's, is the last; Theano's GPU
// set_subtensor left it undefined too). A negative index counts from the end; one out of bounds is
// reported, its element left alone (see IndexOutOfBounds).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"
#include "engine/runtime/tensor.h"

namespace tensord::cuda {

// Whether the device runs `node`: an integer-array index of float32 or float64 values, every
// entry an integer array, one dtype for the value (an inc's y is
// converted as read).
bool IsDeviceIndexing(const ir::Apply& node);

// The gather's source (scatter: the scatter-add's), for K = index_dtypes.size() arrays.
absl::StatusOr<std::string> GatherSource(DType dtype, const std::vector<DType>& index_dtypes,
                                         int index_rank, int trailing_rank,
                                         const std::string& name);
absl::StatusOr<std::string> ScatterSource(DType dtype, const std::vector<DType>& index_dtypes,
                                          DType y_dtype, int index_rank, int trailing_rank,
                                          bool set, const std::string& name);

// One run: the parameters over `x` (the gather's source, or the scatter's destination, already
// holding x's values), its index arrays, and the scatter's `y` (null for a gather); the shape
// of the gathered values (index shape, then trailing dims), and the ranks the source is for.
// INVALID_ARGUMENT, with NumPy's words, for arrays that do not broadcast and a y that does not
// broadcast to the gathered shape.
struct IndexingRun {
  std::vector<int64_t> params;  // up to and excluding `report`
  runtime::Shape gathered;
  int index_rank = 0, trailing_rank = 0;
};
absl::StatusOr<IndexingRun> PlanIndexing(const runtime::Tensor& x,
                                         std::span<const runtime::Tensor* const> indices,
                                         const runtime::Tensor* y);

// The kernel of an IsDeviceIndexing node, its source built for the node's dtypes and ranks.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeIndexingKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

// The host's error for a run's report (the least key the kernel recorded: array k's position p
// as k * positions + p), reading the offending index back from the device: INVALID_ARGUMENT
// "index V is out of bounds for axis K with size N".
absl::Status IndexOutOfBounds(uint64_t key, const runtime::Tensor& x,
                              std::span<const runtime::Tensor* const> indices);

}  // namespace tensord::cuda
