// CUDA kernels that write values into views of their output: join (numpy.concatenate: each
// input copied into its block of the output along the axis) and inc_subtensor (basic indexing:
// x copied, then y added into, or set at, the view the index selects: the gradient of a slice).
// Both run one strided write per operand (StridedWriteSource): any dtype, the source converted
// as read (no host cast before a CUDA node) and broadcast by zero strides. inc_subtensor's index
// scalars are read on the host (HostInputs), where the view is made from metadata as the host's
// kernel makes it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// The most dims of a strided write (after merging those it walks uniformly).
constexpr int kMostWriteDims = 8;

// Whether the device runs `node`: join or inc_subtensor of values of at most kMostWriteDims
// dims, of dtypes the device holds (not float16).
bool IsDeviceViewWrite(const ir::Apply& node);

// tensord_strided_write(To* dst, const From* src, tensord_strided_write_params p): for every
// element of p.shape, dst[at] = To(src[at']) or (`add`) To(dst[at] + To(src[at'])), the offsets
// from p.dst_strides and p.src_strides (kMostWriteDims each, padded in front with dims of 1).
absl::StatusOr<std::string> StridedWriteSource(DType to, DType from, bool add);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeViewWriteKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
