// cumop (numpy.cumsum / numpy.cumprod, engine/ops/defs/scans.cc) on a CUDA device, for float and
// integer values of at most kMostWriteDims dims along an axis or flattened: a thread per lane
// walks its elements in order, folding in the dtype as the host does (integers wrapping, in
// CudaArithmeticType), so the results are the host's values (a GPU makes its own NaN, where the
// host passes an operand's on). A lane is serial work; but a few long integer lanes (a cumsum of
// one long mask) go in segments of 1024, a thread each, since wrapping arithmetic gives the
// serial values in any grouping. A float scan keeps its order, so a long one of few lanes uses
// few threads.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

bool IsDeviceCumop(const ir::Apply& node);

// tensord_cumop(const X* x, T* y, long long outer, long long len, long long inner, int multiply):
// the cumop into `dtype` (T) of values of dtype `in` (X); and tensord_cumop_segments (folding
// without y, scanning into y) and tensord_cumop_offsets, the integers' segments.
absl::StatusOr<std::string> CumopSource(DType dtype, DType in);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeCumopKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
