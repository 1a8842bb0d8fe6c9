// images2neibs and neibs2images on a CUDA device (see engine/ops/defs/neighbours.h): every mode
// the host takes, values of every dtype a kernel holds (not float16).
//
// images2neibs is a thread per patch element, reading its pixel (or the padding's 0).
// neibs2images gathers: a thread per image element sums the patch entries that read it, in the
// host's order (patch row, then patch column; a patch holds an element at most once, since a
// patch is never larger than a wrapped image), so overlapping patches need no atomic add and
// the sums are the host's bits. Integers wrap as the host's sums do. The image shape is read on
// the host, and the shapes are checked as the host checks them (ops::NeibsLayoutOf).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/kernel.h"
#include "engine/ir/graph.h"

namespace tensord::cuda {

// Whether the device runs `node`: images2neibs or neibs2images of values a kernel holds.
bool IsDeviceNeibs(const ir::Apply& node);

// The kernels tensord_images2neibs and tensord_neibs2images for values of `dtype`.
absl::StatusOr<std::string> NeibsSource(DType dtype);

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNeibsKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
