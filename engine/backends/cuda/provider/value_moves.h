// backends::ValueMoves on a GPU's memory (or the emulator's): copies and sums by the strided
// write kernel of view_writes.h, zeros by a fill kernel, a condition read back to the host.
#pragma once

#include <memory>

#include "engine/backends/cuda/device_runtime.h"
#include "engine/backends/value_moves.h"

namespace tensord::cuda {

std::unique_ptr<backends::ValueMoves> DeviceValueMoves(std::shared_ptr<DeviceRuntime> device);

}  // namespace tensord::cuda
