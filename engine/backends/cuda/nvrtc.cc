#include "engine/backends/cuda/nvrtc.h"

#include <nvrtc.h>

#include <vector>

namespace tensord::cuda {

NvrtcResult CompileToPtx(const std::string& source, const std::string& name,
                         const std::string& arch) {
  NvrtcResult result;
  nvrtcProgram program;
  nvrtcResult created =
      nvrtcCreateProgram(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr);
  if (created != NVRTC_SUCCESS) {
    result.log = nvrtcGetErrorString(created);
    return result;
  }
  const std::string arch_option = "--gpu-architecture=" + arch;
  // No fused multiply-adds: the CPU kernels round every product, and x * x - x * x must be 0
  // on both.
  const std::vector<const char*> options = {arch_option.c_str(), "--std=c++17", "--fmad=false"};
  const nvrtcResult compiled =
      nvrtcCompileProgram(program, static_cast<int>(options.size()), options.data());
  size_t log_size = 0;
  nvrtcGetProgramLogSize(program, &log_size);
  result.log.resize(log_size);
  if (log_size > 0) nvrtcGetProgramLog(program, result.log.data());
  while (!result.log.empty() && result.log.back() == '\0') result.log.pop_back();
  if (compiled == NVRTC_SUCCESS) {
    size_t ptx_size = 0;
    nvrtcGetPTXSize(program, &ptx_size);
    result.ptx.resize(ptx_size);
    nvrtcGetPTX(program, result.ptx.data());
    result.ok = true;
  } else if (result.log.empty()) {
    result.log = nvrtcGetErrorString(compiled);
  }
  nvrtcDestroyProgram(&program);
  return result;
}

}  // namespace tensord::cuda
