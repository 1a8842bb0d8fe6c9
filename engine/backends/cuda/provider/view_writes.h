// CUDA kernels that write values into views of their output: join (numpy.concatenate: each
// input copied into its block of the output along the axis), inc_subtensor (basic indexing:
// x copied, then y added into, or set at, the view the index selects: the gradient of a slice)
// alloc (numpy.full: the value broadcast to dims read on the host), tile (numpy.tile: the output
// seen as (r0, s0, r1, s1, ...) written from x broadcast over the rep dims) and repeat
// (numpy.repeat; of one count, the axis seen as (n, count) written from x broadcast over the
// copies; of a count per entry, a gather through a map of the entry each position copies, made
// on the host). Each but the gather runs one strided write per operand (StridedWriteSource): any
// dtype, the source converted as read (no host cast before a CUDA node) and broadcast by zero
// strides.
// inc_subtensor's index scalars, alloc's dims and repeat's counts are read on the host
// (HostInputs), where inc_subtensor's view is made from metadata as the host's kernel makes it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// The most dims of a strided write (after merging those it walks uniformly).
constexpr int kMostWriteDims = 8;

// Whether the device runs `node`: join, inc_subtensor or alloc of values of at most
// kMostWriteDims dims, of dtypes the device holds (not float16), no float written into integers
// (a GPU's conversion saturates where the host's wraps); tile of at most kMostWriteDims / 2
// dims; repeat of a 0-d count or a vector of them.
bool IsDeviceViewWrite(const ir::Apply& node);

// tensord_strided_write(To* dst, const From* src, tensord_strided_write_params p): for every
// element of p.shape, dst[at] = To(src[at']) or (`add`) To(dst[at] + To(src[at'])), the offsets
// from p.dst_strides and p.src_strides (kMostWriteDims each, padded in front with dims of 1).
absl::StatusOr<std::string> StridedWriteSource(DType to, DType from, bool add);

// One strided write of a (destination, source) dtype pair, setting or adding, its kernel
// compiled on first use (a pair StridedWriteSource refuses fails each run).
class StridedWrite {
 public:
  StridedWrite(DType to, DType from, bool add);
  // Writes `src`, broadcast to `dst`'s shape (the caller checked it does), into `dst`: a view
  // on the device whose elements are distinct.
  absl::Status Run(DeviceRuntime& device, const runtime::Tensor& dst, const runtime::Tensor& src);

 private:
  const absl::StatusOr<std::string> source_;
  KernelsOnce kernel_;
};

// `t` itself where it is contiguous, else a contiguous copy of it on its device made by `pack`
// (a write of t's dtype into itself).
absl::StatusOr<runtime::Tensor> Packed(StridedWrite& pack, DeviceRuntime& device,
                                       const runtime::Tensor& t);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeViewWriteKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
