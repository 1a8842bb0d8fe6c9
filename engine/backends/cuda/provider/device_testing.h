// What the CUDA provider's device tests share (provider_device_test.cc,
// more_ops_device_test.cc): the device they run on, TENSORD_PROVIDER_TEST_DEVICE (cuda0 in
// cuda_backend_tests, the GPU bundle, skipped without a GPU; emu0 in cuda_emulation_tests, the
// CUDA emulator of host_emulation.h, in CI), the suite TENSORD_PROVIDER_TEST_SUITE named after
// it, one context registry for the binary, and compiling a graph against it.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "engine/backends/cuda/device.h"
#include "engine/compile/testing_util.h"
#include "engine/context/context.h"

#if !defined(TENSORD_PROVIDER_TEST_DEVICE) || !defined(TENSORD_PROVIDER_TEST_SUITE)
#error "TENSORD_PROVIDER_TEST_DEVICE and _SUITE name the device the tests run on, and the suite"
#endif

namespace tensord::cuda::testing {

inline constexpr char kDevice[] = TENSORD_PROVIDER_TEST_DEVICE;
// The context on it: named after it, so that its memory counter is its own.
inline const std::string kOn = std::string("on_") + kDevice;

inline const context::ContextRegistry& Contexts() {
  static const context::ContextRegistry* registry =
      context::ContextRegistry::Create(kOn + "->" + kDevice, "cpu")->release();
  return *registry;
}

inline bool NoDevice() { return std::string(kDevice).rfind("cuda", 0) == 0 && DeviceCount() == 0; }
#define SKIP_WITHOUT_THE_DEVICE() \
  if (::tensord::cuda::testing::NoDevice()) GTEST_SKIP() << "no CUDA device"

// `g` compiled with FAST_RUN, its function's own context `context` (the host by default).
inline std::shared_ptr<compile::Executable> Compiled(std::unique_ptr<ir::Graph> g,
                                                     const std::string& context = "cpu") {
  compile::CompileOptions options;
  options.contexts = &Contexts();
  options.context = *Contexts().Find(context);
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto exe = compile::BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return exe.ok() ? *exe : nullptr;
}

}  // namespace tensord::cuda::testing
