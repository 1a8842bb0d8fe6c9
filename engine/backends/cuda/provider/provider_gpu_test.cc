// The CUDA provider on a GPU (cuda_backend_tests, in the GPU bundle; skipped without a device):
// functions placed on dev0 -> cuda0 compile through the whole engine (fusion, placement,
// transfers) and compute on the device what the host computes.
#include <gtest/gtest.h>

#include <cmath>

#include "engine/backends/cuda/device.h"
#include "engine/compile/testing_util.h"
#include "engine/context/context.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;

const context::ContextRegistry& OneGpu() {
  static const context::ContextRegistry* registry =
      context::ContextRegistry::Create("dev0->cuda0", "cpu")->release();
  return *registry;
}

Tensor Filled(runtime::Shape shape, float scale) {
  Tensor t(DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = scale * std::sin(0.1f * i);
  return t;
}

// f(x, b) = (exp(x) * b + tanh(x), sqr(x)) computed where `device` says, brought to the host;
// the sqr alone is a lone op, the rest one fused composite.
std::shared_ptr<compile::Executable> Build(const std::string& device) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  ir::Variable* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  g->inputs() = {x, b};
  ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", device}});
  ir::Variable* bd = Node(*g, "transfer", {b}, {{"target", device}});
  ir::Variable* f =
      Node(*g, "add", {Node(*g, "mul", {Node(*g, "exp", {xd}), bd}), Node(*g, "tanh", {xd})});
  g->outputs() = {Node(*g, "transfer", {f}, {{"target", std::string("cpu")}}),
                  Node(*g, "transfer", {Node(*g, "sqr", {xd})}, {{"target", std::string("cpu")}})};
  compile::CompileOptions options;
  options.contexts = &OneGpu();
  options.context = *OneGpu().Find("cpu");
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  if (!prepared.ok()) return nullptr;
  auto exe = compile::BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return exe.ok() ? *exe : nullptr;
}

TEST(CudaProviderGpu, ElementwiseFunctionsOnTheDeviceMatchTheHost) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  auto gpu = Build("dev0"), host = Build("cpu");
  ASSERT_NE(gpu, nullptr);
  ASSERT_NE(host, nullptr);
  for (int64_t rows : {1, 7, 1000}) {  // new shapes, then the kernels compiled before
    const Tensor x = Filled({rows, 333}, 3.0f), b = Filled({333}, 1.0f);
    auto want = host->Run({x, b}, {});
    ASSERT_TRUE(want.ok()) << want.status();
    for (int repeat = 0; repeat < 2; ++repeat) {
      auto got = gpu->Run({x, b}, {});
      ASSERT_TRUE(got.ok()) << got.status();
      for (int k = 0; k < 2; ++k) {
        ASSERT_EQ(got->outputs[k].shape(), want->outputs[k].shape());
        ASSERT_TRUE(got->outputs[k].host_accessible());
        const float* g = got->outputs[k].data<float>();
        const float* w = want->outputs[k].data<float>();
        for (int64_t i = 0; i < x.num_elements(); ++i) {
          // CUDA's expf and tanhf against SLEEF's: a few ULP apart at most.
          ASSERT_NEAR(g[i], w[i], 4e-6f * std::max(1.0f, std::abs(w[i]))) << k << " " << i;
        }
      }
    }
  }
  runtime::MemoryCounter* dev0 = runtime::MemoryCounterFor("dev0");
  EXPECT_GT(dev0->transferred(runtime::TransferDirection::kHostToDevice), 0);
  EXPECT_GT(dev0->transferred(runtime::TransferDirection::kDeviceToHost), 0);
}

}  // namespace
}  // namespace tensord::cuda
