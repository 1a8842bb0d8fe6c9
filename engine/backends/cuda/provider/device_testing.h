// What the CUDA provider's device tests share (provider_device_test.cc and the *_device_test.cc
// files beside it): the device they run on, TENSORD_PROVIDER_TEST_DEVICE (cuda0 in
// cuda_backend_tests, the GPU bundle, skipped without a GPU; emu0 in cuda_emulation_tests, the
// CUDA emulator of host_emulation.h, in CI), the suite TENSORD_PROVIDER_TEST_SUITE named after
// it, one context registry for the binary, compiling a graph against it, and the values and
// comparisons the tests use.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

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

using compile::testing::Node;

inline ir::Variable* To(ir::Graph& g, ir::Variable* v, const std::string& where) {
  return Node(g, "transfer", {v}, {{"target", where}});
}

inline bool SameBytes(const runtime::Tensor& a, const runtime::Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.num_bytes()) == 0;
}

// The same bytes, but that any NaN equals any NaN in a float value: a GPU makes its own NaN
// where the host passes an operand's bits on.
inline bool SameBytesAnyNaN(const runtime::Tensor& a, const runtime::Tensor& b) {
  if (a.dtype() != b.dtype() || a.shape() != b.shape()) return false;
  auto same = [&]<class T>(T) {
    for (int64_t i = 0; i < a.num_elements(); ++i) {
      const T x = a.data<T>()[i], y = b.data<T>()[i];
      if (!(std::isnan(x) && std::isnan(y)) && std::memcmp(&x, &y, sizeof x) != 0) return false;
    }
    return true;
  };
  if (a.dtype() == DType::kFloat32) return same(float{});
  if (a.dtype() == DType::kFloat64) return same(double{});
  return SameBytes(a, b);
}

template <typename T>
inline void ExpectNear(const runtime::Tensor& got, const runtime::Tensor& want, double rtol,
                       const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<T>()[i], w = want.data<T>()[i];
    ASSERT_NEAR(g, w, rtol * std::max(1.0, std::abs(w))) << what << " element " << i;
  }
}

// The words of an error after the node's label (whose operands' names differ by where).
inline std::string Words(const absl::Status& status) {
  const std::string m(status.message());
  return m.substr(m.rfind(": ") + 2);
}

// Whether one of `exe`'s instructions is a node of `op`.
inline bool Runs(const compile::Executable& exe, const std::string& op) {
  for (const compile::Instruction& ins : exe.instructions())
    if (ins.label.rfind(op + "(", 0) == 0) return true;
  return false;
}

// Whether one of `exe`'s instructions is a node of `op` placed on a CUDA device.
inline bool RunsOnTheDevice(const compile::Executable& exe, const std::string& op) {
  for (const compile::Instruction& ins : exe.instructions())
    if (ins.label.rfind(op + "(", 0) == 0 && ins.device != nullptr) return true;
  return false;
}

// `inputs` refused by the device's function and the host's alike: INVALID_ARGUMENT, in the same
// words (the host's refusal asserted first, so that a host that runs them fails cleanly).
inline void ExpectRefusedAsTheHost(const compile::Executable& device,
                                   const compile::Executable& host,
                                   const std::vector<runtime::Tensor>& inputs,
                                   const std::string& what = "") {
  auto refused = device.Run(inputs, {});
  auto host_refused = host.Run(inputs, {});
  ASSERT_EQ(host_refused.status().code(), absl::StatusCode::kInvalidArgument)
      << what << ": " << host_refused.status();
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
      << what << ": " << refused.status();
  EXPECT_EQ(Words(refused.status()), Words(host_refused.status())) << what;
}

// An MRG31k3p state of `streams` streams, each seeded differently (components in range of both
// moduli).
inline runtime::Tensor MrgState(int64_t streams, int32_t seed) {
  runtime::Tensor t(DType::kInt32, {streams, 6});
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    t.data<int32_t>()[i] = seed + static_cast<int32_t>(7919 * i % 1000003);
  }
  return t;
}

// float32 values scale * sin(0.1 i), smooth and signed.
inline runtime::Tensor Filled(runtime::Shape shape, float scale) {
  runtime::Tensor t(DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = scale * std::sin(0.1f * i);
  return t;
}

inline runtime::Tensor Ramp(DType dtype, runtime::Shape shape, double start) {
  runtime::Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = start + 0.5 * i;
    if (dtype == DType::kFloat32) t.data<float>()[i] = static_cast<float>(v);
    if (dtype == DType::kFloat64) t.data<double>()[i] = v;
    if (dtype == DType::kInt32) t.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  return t;
}

// Values with ties, signed zeros, infinities and NaNs (in float dtypes), in a scrambled order.
inline runtime::Tensor Scrambled(DType dtype, runtime::Shape shape) {
  runtime::Tensor t(dtype, std::move(shape));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int64_t k = (i * 7919) % 23;  // 23 distinct keys: many ties
    double v = static_cast<double>(k) - 11.0;
    if (dtype == DType::kFloat32 || dtype == DType::kFloat64) {
      const double specials[] = {nan, -0.0, 0.0, inf, -inf, nan, 0.5};
      if (k < 7) v = specials[k];
    }
    switch (dtype) {
      case DType::kFloat32:
        t.data<float>()[i] = static_cast<float>(v);
        break;
      case DType::kFloat64:
        t.data<double>()[i] = v;
        break;
      case DType::kInt32:
        t.data<int32_t>()[i] = static_cast<int32_t>(v);
        break;
      case DType::kInt64:
        t.data<int64_t>()[i] = static_cast<int64_t>(v) * (int64_t{1} << 40);
        break;
      case DType::kUInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(k);
        break;
      case DType::kBool:
        t.data<bool>()[i] = k % 2 == 0;
        break;
      default:
        ADD_FAILURE() << "no values for " << DTypeName(dtype);
    }
  }
  return t;
}

}  // namespace tensord::cuda::testing
