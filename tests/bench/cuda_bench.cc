// GPU figures for docs/performance.md (issue 16), run by the GPU bundle (tests/cuda/run-on-gpu.sh)
// on a machine with a GPU, operands and results resident on cuda0, medians in one run:
// - a fused 8-op elementwise chain over 64M float32 against the device-to-device copy bandwidth
//   of the same device (the target: the chain at >= 80% of it); both move 2 x 256 MiB
//   per call (read the input, write the output);
// - a float32 4096^3 dot through the engine against the same cuBLAS call made directly (the
//   target: >= 0.95x cuBLAS alone).
// Prints a markdown line per figure; exits 0 without a device (saying so), 1 when a result is
// wrong. --simulated runs the chain on a
// simulated device instead (host kernels, no copy figure): ctest's smoke check of the benchmark.
//
//   tensord_bench_cuda [--repeats=15] [--elements=67108864] [--simulated]
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/device.h"
#include "engine/context/context.h"
#include "engine/ops/node_builder.h"
#include "tests/bench/engine_bench.h"

namespace tensord {
namespace {

using runtime::Tensor;

// tanh((((x * 1.01 + 0.02) * 0.99 - 0.03) * 1.02 - 0.01) * 0.5): eight ops, one composite.
float ChainOf(float x) {
  return std::tanh(((((x * 1.01f + 0.02f) * 0.99f - 0.03f) * 1.02f - 0.01f) * 0.5f));
}

std::shared_ptr<compile::Executable> BuildChain(const context::ContextRegistry& contexts) {
  auto g = std::make_unique<ir::Graph>();
  const DType f = DType::kFloat32;
  ir::Variable* x = g->AddInput(ir::Type::Of(f, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  auto k = [&](float v) {
    Tensor t(f, {});
    *t.data<float>() = v;
    return g->AddConstant(t, ir::Type::Scalar(f));
  };
  ir::Variable* y = b.Apply("transfer", {x}, {{"target", std::string("dev0")}});
  y = b.Sub(b.Mul(b.Add(b.Mul(y, k(1.01f)), k(0.02f)), k(0.99f)), k(0.03f));
  y = b.Mul(b.Sub(b.Mul(y, k(1.02f)), k(0.01f)), k(0.5f));
  y = b.Apply("tanh", {y});
  g->outputs() = {b.Apply("transfer", {y}, {{"target", std::string("dev0")}})};
  bench::Check(b.status(), "building the graph");
  return bench::CompileOnHost(std::move(g), contexts);
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// float32 4096^3: dot through the engine (one node on dev0, inputs and output resident) against
// cuda::Gemm, the cuBLAS call the node makes, timed alone; checks a few elements against the host.
void MeasureGemm(const context::ContextRegistry& contexts, int repeats) {
  constexpr int64_t kN = 4096;
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "y");
  g->inputs() = {x, y};
  ops::NodeBuilder b(*g);
  auto on_dev0 = [&](ir::Variable* v) {
    return b.Apply("transfer", {v}, {{"target", std::string("dev0")}});
  };
  g->outputs() = {on_dev0(b.Apply("dot", {on_dev0(x), on_dev0(y)}))};
  bench::Check(b.status(), "building the graph");
  std::shared_ptr<compile::Executable> exe = bench::CompileOnHost(std::move(g), contexts);

  const context::Context* dev0 = *contexts.Find("dev0");
  Tensor host(DType::kFloat32, {kN, kN});
  for (int64_t i = 0; i < kN * kN; ++i) host.data<float>()[i] = std::sin(0.01f * (i % 1009));
  auto a = runtime::IntoContext(host, dev0->memory);
  bench::Check(a.status(), "moving the operand to dev0");
  Tensor c;
  {
    runtime::ScopedMemoryContext on(dev0->memory);
    c = Tensor(DType::kFloat32, {kN, kN});
  }
  std::vector<double> engine_s, alone_s;
  Tensor out;
  for (int r = -2; r < repeats; ++r) {  // alternated, two untimed rounds first
    auto start = std::chrono::steady_clock::now();
    auto result = exe->Run({*a, *a}, {});
    bench::Check(result.status(), "running");
    if (cudaDeviceSynchronize() != cudaSuccess) bench::Fail("the engine's product failed");
    if (r >= 0) engine_s.push_back(Seconds(start));
    out = result->outputs[0];
    start = std::chrono::steady_clock::now();
    absl::Status s = cuda::Gemm(0, DType::kFloat32, false, false, kN, kN, kN, 1.0, a->raw(), kN,
                                a->raw(), kN, 0.0, c.raw());
    if (!s.ok() || cudaDeviceSynchronize() != cudaSuccess) bench::Fail("cuBLAS alone failed");
    if (r >= 0) alone_s.push_back(Seconds(start));
  }
  auto got = runtime::OnHost(out);
  bench::Check(got.status(), "reading the product back");
  for (int64_t i = 0; i < kN * kN; i += 999983) {
    const int64_t row = i / kN, col = i % kN;
    double want = 0;
    for (int64_t j = 0; j < kN; ++j) {
      want += double{host.data<float>()[row * kN + j]} * host.data<float>()[j * kN + col];
    }
    if (std::abs(got->data<float>()[i] - want) > 1e-3 * std::max(1.0, std::abs(want))) {
      bench::Fail("dot element " + std::to_string(i) + ": " +
                  std::to_string(got->data<float>()[i]) + ", expected " + std::to_string(want));
    }
  }
  const double engine_t = bench::Median(engine_s), alone_t = bench::Median(alone_s);
  const double flops = 2.0 * kN * kN * kN;
  std::printf(
      "| %s | float32 dot 4096^3 | %.3f ms, %.1f TFLOP/s | cuBLAS alone %.3f ms, %.1f "
      "TFLOP/s | %.2fx cuBLAS alone |\n",
      cuda::DeviceName(0).c_str(), engine_t * 1e3, flops / engine_t / 1e12, alone_t * 1e3,
      flops / alone_t / 1e12, alone_t / engine_t);
}

int Main(int argc, char** argv) {
  int repeats = 15;
  int64_t n = int64_t{64} << 20;
  bool simulated = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeats=", 10) == 0) repeats = std::atoi(argv[i] + 10);
    if (std::strncmp(argv[i], "--elements=", 11) == 0) n = std::atoll(argv[i] + 11);
    if (std::strcmp(argv[i], "--simulated") == 0) simulated = true;
  }
  repeats = std::max(repeats, 1);
  if (!simulated && cuda::DeviceCount() == 0) {
    std::printf("tensord_bench_cuda: no CUDA device, nothing measured\n");
    return 0;
  }
  auto sync = [&] { return simulated || cudaDeviceSynchronize() == cudaSuccess; };
  const context::ContextRegistry* contexts =
      context::ContextRegistry::Create(simulated ? "dev0->sim0" : "dev0->cuda0", "cpu")->release();
  const context::Context* dev0 = *contexts->Find("dev0");
  auto chain = BuildChain(*contexts);

  Tensor host(DType::kFloat32, {n});
  for (int64_t i = 0; i < n; ++i) host.data<float>()[i] = std::sin(0.001f * (i % 100003));
  auto x = runtime::IntoContext(host, dev0->memory);  // resident: the run moves nothing
  bench::Check(x.status(), "moving the input to dev0");
  std::vector<double> chain_s, copy_s;
  Tensor y;
  for (int r = -2; r < repeats; ++r) {  // two untimed runs compile and warm up
    const auto start = std::chrono::steady_clock::now();
    auto result = chain->Run({*x}, {});
    bench::Check(result.status(), "running");
    if (!sync()) bench::Fail("the chain's kernel failed");
    if (r >= 0) chain_s.push_back(Seconds(start));
    y = result->outputs[0];
  }
  auto out = runtime::OnHost(y);
  bench::Check(out.status(), "reading the chain back");
  for (int64_t i = 0; i < n; i += 9973) {
    const float want = ChainOf(host.data<float>()[i]), got = out->data<float>()[i];
    if (std::abs(got - want) > 1e-5f * std::max(1.0f, std::abs(want))) {
      bench::Fail("element " + std::to_string(i) + ": " + std::to_string(got) + ", expected " +
                  std::to_string(want));
    }
  }

  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  if (simulated) {
    std::printf("| simulated device | fused 8-op chain, %lld float32 | %.3f ms |\n",
                static_cast<long long>(n), bench::Median(chain_s) * 1e3);
    return 0;
  }
  void *from = nullptr, *to = nullptr;
  if (cudaMalloc(&from, bytes) != cudaSuccess || cudaMalloc(&to, bytes) != cudaSuccess) {
    bench::Fail("cudaMalloc for the copy failed");
  }
  for (int r = -2; r < repeats; ++r) {
    const auto start = std::chrono::steady_clock::now();
    if (cudaMemcpy(to, from, bytes, cudaMemcpyDeviceToDevice) != cudaSuccess ||
        cudaDeviceSynchronize() != cudaSuccess) {
      bench::Fail("the device-to-device copy failed");
    }
    if (r >= 0) copy_s.push_back(Seconds(start));
  }
  cudaFree(from);
  cudaFree(to);
  const double chain_t = bench::Median(chain_s), copy_t = bench::Median(copy_s);
  const double chain_gbs = 2.0 * bytes / chain_t / 1e9, copy_gbs = 2.0 * bytes / copy_t / 1e9;
  std::printf(
      "| %s | fused 8-op chain, %lld float32 | %.3f ms, %.0f GB/s | copy %.3f ms, %.0f "
      "GB/s | %.0f%% of the copy's bandwidth |\n",
      cuda::DeviceName(0).c_str(), static_cast<long long>(n), chain_t * 1e3, chain_gbs,
      copy_t * 1e3, copy_gbs, 100.0 * chain_gbs / copy_gbs);
  MeasureGemm(*contexts, repeats);

  return 0;
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) { return tensord::Main(argc, argv); }
