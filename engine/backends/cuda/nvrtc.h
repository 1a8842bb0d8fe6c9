// Run-time compilation of generated CUDA C++ with NVRTC, which needs no GPU: the CUDA provider
// compiles its fused kernels (composite_source.h) this way, and CI compiles every generated
// kernel without a device.
#pragma once

#include <string>

namespace tensord::cuda {

struct NvrtcResult {
  bool ok = false;
  std::string ptx;  // when ok
  std::string log;  // NVRTC's messages (the errors when not ok)
};

// Compiles `source` (named `name` in messages) to PTX for virtual architecture `arch`
// ("compute_80", "compute_90", ...).
NvrtcResult CompileToPtx(const std::string& source, const std::string& name,
                         const std::string& arch);

}  // namespace tensord::cuda
