// CUDA device discovery. Without CUDA support compiled in, no device is ever seen.
#pragma once

#include <string>

namespace tensord::cuda {

bool Available();   // built with CUDA
int DeviceCount();  // 0 when not built with CUDA or no driver/device
std::string DeviceName(int ordinal);

}  // namespace tensord::cuda
