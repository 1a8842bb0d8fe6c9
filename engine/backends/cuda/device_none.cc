// Built when no CUDA compiler was found: the server still runs, with CPU contexts only.
#include "engine/backends/cuda/device.h"

namespace tensord::cuda {

bool Available() { return false; }
int DeviceCount() { return 0; }
std::string DeviceName(int ordinal) { return "unavailable"; }
std::unique_ptr<DeviceMemory> DeviceMemoryOf(int) { return nullptr; }

}  // namespace tensord::cuda
