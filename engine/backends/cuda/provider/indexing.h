// Advanced indexing on the CUDA provider: x[i0, i1, ...] (advanced_subtensor, and
// advanced_subtensor1's x[i]) and its increment or assignment (advanced_inc_subtensor{,1}, with
// or without set_instead_of_inc), for x of any dtype a GPU holds, with NumPy's rules as the host
// applies them (backends/cpu/kernels/subtensor_advanced.cc): integer arrays of any integer dtype
// broadcasting together; boolean masks, each replaced by its nonzero() vectors, made on the
// device (nonzero_kernels.h: the count of trues is read back, since the result's shape depends on
// it); slices mixed in, their bounds read on the host, their dims before the index dims where the
// arrays are adjacent and after them otherwise. The cross-entropy's probs[arange(n), labels], an
// embedding lookup, a minibatch of labels y[idx], x[x > 0], x[:, idx], and their gradients. The
// sources and the layout of a run are plain C++, so tests check them without a GPU (the
// emulator, host_emulation.h).
//
// The gather, for x of dtype T, K index arrays of any integer dtype broadcasting to an index
// shape of rank R, and S dims of x taken by slices or whole (the slice dims):
//   struct <name>_params {
//     long long n, block;            // output elements; slice-dim elements per index position
//     long long index_shape[R];
//     const void* idx[K];            // index array k, of its own integer dtype
//     long long idx_strides[K][R];   // broadcast strides (0 where it broadcasts)
//     long long dim[K], stride[K];   // the size and stride of the dim array k indexes
//     long long trail_shape[S], trail_strides[S];  // the slice dims, in x's order
//     const void* x;                 // the gather's source (its first selected element); the
//                                    // scatter's y (of its own dtype)
//     long long y_strides[R + S];    // scatter only: y broadcast over index dims, slice dims
//     unsigned long long* report;    // two words (<name>_reset, one thread launched before
//                                    // the kernel, sets them): the first starts at ~0 and gets
//                                    // the least k * positions + position of an index out of
//                                    // bounds (array k, C order), as the host names the first
//                                    // it meets; <name>_culprit, one thread launched after the
//                                    // kernel, copies that index into the second
//   };
//   extern "C" __global__ void <name>(T* out, const <name>_params p);
// gathers out (C-contiguous: the index shape, then the slice dims; a run whose slice dims come
// first answers a transposed view of it, as the host does) from x; the scatter (<name> of
// ScatterSource, `out` at the first selected element) adds y's elements into out at the indexed
// places, in place, with atomic adds (an integer or bool narrower than 32 bits through a
// compare-and-swap of its word): a repeated index accumulates (numpy.add.at), floats in an order
// that may change the last bits from run to run, integers wrapping as the host's in any order;
// or sets them (set_instead_of_inc), where a repeated index gets one of its values, which one not
// defined on a GPU (the host's, NumPy's, is the last; Theano's GPU set_subtensor left it
// undefined too). A negative index counts from the end; one out of bounds is reported, its
// element left alone. The report is read when the run's deferred checks are
// (runtime/deferred_checks.h), not after each launch: INVALID_ARGUMENT in NumPy's words.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"
#include "engine/ops/defs/subtensor.h"
#include "engine/runtime/tensor.h"

namespace tensord::cuda {

// Whether the device runs `node`: advanced indexing of a value of a dtype a GPU holds by integer
// arrays, masks and slices, at most 8 index arrays once masks are counted by their dims, at most
// 8 index and 8 slice dims; an inc's y is converted as read, but never a float into integers
// (GpuConvertsOtherwise).
bool IsDeviceIndexing(const ir::Apply& node);

// The inputs of an IsDeviceIndexing node that the host reads: its slices' symbolic bounds.
std::vector<int> IndexingHostInputs(const ir::Apply& node);

// The gather's source (scatter: the scatter-add's), for K = index_dtypes.size() arrays.
absl::StatusOr<std::string> GatherSource(DType dtype, const std::vector<DType>& index_dtypes,
                                         int index_rank, int trailing_rank,
                                         const std::string& name);
absl::StatusOr<std::string> ScatterSource(DType dtype, const std::vector<DType>& index_dtypes,
                                          DType y_dtype, int index_rank, int trailing_rank,
                                          bool set, const std::string& name);

// An index array as the kernel reads it: integers on the device, and the dim of x they index
// (-1: the new dim of a 0-d mask, a dim of 1 at stride 0, which its 0s index).
struct IndexArray {
  const runtime::Tensor* values = nullptr;
  int axis = 0;
};

// One run: the parameters over `x` (the gather's source, or the scatter's destination, already
// holding x's values), its index `entries` (the node's: slices read their bounds from the host
// inputs of `in`, the node's inputs), the index `arrays` in order (masks replaced by their
// nonzero() vectors), and the scatter's `y` (null for a gather; `set` names its op in errors);
// the layout the kernel writes (index dims, then slice dims), the result's dims as positions in
// it, the offset of x's first selected element, and the ranks the source is for. INVALID_ARGUMENT,
// with NumPy's words, for a bad slice, arrays that do not broadcast and a y that does not broadcast
// to the result.
struct IndexingRun {
  std::vector<int64_t> params;  // up to and excluding `report`
  runtime::Shape layout;
  std::vector<int> order;  // result dim r is layout dim order[r]
  int64_t base = 0;
  int index_rank = 0, trailing_rank = 0;
};
absl::StatusOr<IndexingRun> PlanIndexing(const runtime::Tensor& x,
                                         const std::vector<ops::subtensor::Entry>& entries,
                                         std::span<const runtime::Tensor* const> in,
                                         std::span<const IndexArray> arrays,
                                         const runtime::Tensor* y, bool set);

// The kernel of an IsDeviceIndexing node, its source built for the node's dtypes and ranks.
absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeIndexingKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
