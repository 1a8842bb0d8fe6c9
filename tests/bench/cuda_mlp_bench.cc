// The MLP training step of tests/bench/mlp_step.py on a device (issue 16's figure: faster than
// PyTorch eager on the same GPU; tests/cuda/mlp_step_torch.py measures PyTorch in the GPU
// bundle's run.sh): 784-512-512-10 with tanh hidden layers, softmax cross-entropy over integer
// labels (the batch's mean), one SGD step (0.01) on the six parameters, batch 256, float32. The
// batch and the parameters are resident on dev0; the updated parameters stay there and feed the
// next step, and only the loss comes back. The first steps' losses are checked against the same
// step on the host (exit 1 when they differ); then prints a markdown line with the median step.
//
//   tensord_bench_mlp_step_cuda [--device=cuda0|emu0] [--repeats=50] [--scale=1]
//
// --device=emu0 --scale=16 (the sizes divided by 16) is ctest's smoke check, on the CUDA
// emulator (host_emulation.h); without a GPU, cuda0 says so and exits 0.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/backends/cuda/device.h"
#include "engine/context/context.h"
#include "engine/grad/grad.h"
#include "engine/ops/node_builder.h"
#include "tests/bench/engine_bench.h"

namespace tensord {
namespace {

using runtime::Tensor;

struct Sizes {
  int64_t batch = 256, in = 784, hidden = 512, classes = 10;
};

// The step on context `where`: inputs x, labels and the six parameters; outputs the loss (on
// the host) and the six updated parameters (left on `where`).
std::shared_ptr<compile::Executable> BuildStep(const context::ContextRegistry& contexts,
                                               const std::string& where) {
  auto g = std::make_unique<ir::Graph>();
  const DType f = DType::kFloat32;
  ir::Variable* x = g->AddInput(ir::Type::Of(f, 2), "x");
  ir::Variable* labels = g->AddInput(ir::Type::Of(DType::kInt64, 1), "labels");
  std::vector<ir::Variable*> params;
  for (int i = 0; i < 6; ++i) {
    params.push_back(g->AddInput(ir::Type::Of(f, i % 2 == 0 ? 2 : 1), "p" + std::to_string(i)));
  }
  g->inputs() = {x, labels};
  g->inputs().insert(g->inputs().end(), params.begin(), params.end());
  ops::NodeBuilder b(*g);
  auto on = [&](ir::Variable* v, const std::string& target) {
    return b.Apply("transfer", {v}, {{"target", target}});
  };
  auto row = [&](ir::Variable* v) {  // (n,) -> (1, n)
    return b.Apply("dimshuffle", {v}, {{"new_order", std::vector<int64_t>{-1, 0}}});
  };
  auto column = [&](ir::Variable* v) {  // (n,) -> (n, 1)
    return b.Apply("dimshuffle", {v}, {{"new_order", std::vector<int64_t>{0, -1}}});
  };
  const ir::Attrs last_axis{{"axis", std::vector<int64_t>{1}}};
  std::vector<ir::Variable*> p;
  for (ir::Variable* v : params) p.push_back(on(v, where));
  ir::Variable* h = on(x, where);
  for (int layer = 0; layer < 2; ++layer) {
    h = b.Apply("tanh", {b.Add(b.Apply("dot", {h, p[2 * layer]}), row(p[2 * layer + 1]))});
  }
  ir::Variable* logits = b.Add(b.Apply("dot", {h, p[4]}), row(p[5]));
  ir::Variable* e = b.Apply("exp", {b.Sub(logits, column(b.Apply("max", {logits}, last_axis)))});
  ir::Variable* probs = b.Div(e, column(b.Apply("sum", {e}, last_axis)));
  ir::Variable* rows =
      b.Apply("arange",
              {b.Constant(0, DType::kInt64), b.Apply("shape_i", {probs}, {{"i", int64_t{0}}}),
               b.Constant(1, DType::kInt64)},
              {{"dtype", DType::kInt64}});
  ir::Variable* picked = b.Apply("advanced_subtensor", {probs, rows, on(labels, where)},
                                 {{"idx_list", std::vector<int64_t>{2, 0, 0, 0, 2, 0, 0, 0}}});
  ir::Variable* loss = b.Apply("mean", {b.Neg(b.Apply("log", {picked}))});
  bench::Check(b.status(), "building the graph");
  grad::GradRequest request;
  request.cost = loss;
  request.wrt = p;
  request.float_dtype = f;
  auto grads = grad::Grad(*g, request, [](const ir::Variable* v) { return v->DisplayName(); });
  bench::Check(grads.status(), "differentiating the loss");
  g->outputs() = {on(loss, "cpu")};
  for (int i = 0; i < 6; ++i) {
    ir::Variable* step = b.Mul(b.Constant(0.01, f), grads->gradients[i]);
    g->outputs().push_back(on(b.Sub(p[i], step), where));
  }
  bench::Check(b.status(), "building the graph");
  return bench::CompileOnHost(std::move(g), contexts);
}

// The batch and initial parameters of mlp_step.py's kind: uniform inputs, labels in range,
// weights uniform in +-1/sqrt(fan_in), zero biases.
std::vector<Tensor> Initial(const Sizes& s) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> unit(0, 1), signed_unit(-1, 1);
  std::vector<Tensor> v;
  Tensor x(DType::kFloat32, {s.batch, s.in});
  for (int64_t i = 0; i < x.num_elements(); ++i) x.data<float>()[i] = unit(rng);
  Tensor labels(DType::kInt64, {s.batch});
  for (int64_t i = 0; i < s.batch; ++i) labels.data<int64_t>()[i] = rng() % s.classes;
  v = {x, labels};
  const int64_t dims[] = {s.in, s.hidden, s.hidden, s.classes};
  for (int layer = 0; layer < 3; ++layer) {
    Tensor w(DType::kFloat32, {dims[layer], dims[layer + 1]});
    const float scale = 1.0f / std::sqrt(static_cast<float>(dims[layer]));
    for (int64_t i = 0; i < w.num_elements(); ++i) w.data<float>()[i] = signed_unit(rng) * scale;
    Tensor bias(DType::kFloat32, {dims[layer + 1]});
    std::fill(bias.data<float>(), bias.data<float>() + dims[layer + 1], 0.0f);
    v.push_back(w);
    v.push_back(bias);
  }
  return v;
}

int Main(int argc, char** argv) {
  int repeats = 50;
  int scale = 1;
  std::string device = "cuda0";
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeats=", 10) == 0)
      repeats = std::max(1, std::atoi(argv[i] + 10));
    if (std::strncmp(argv[i], "--scale=", 8) == 0) scale = std::max(1, std::atoi(argv[i] + 8));
    if (std::strncmp(argv[i], "--device=", 9) == 0) device = argv[i] + 9;
  }
  if (device.rfind("cuda", 0) == 0 && cuda::DeviceCount() == 0) {
    std::printf("tensord_bench_mlp_step_cuda: no CUDA device, nothing measured\n");
    return 0;
  }
  auto contexts = context::ContextRegistry::Create("dev0->" + device, "cpu");
  bench::Check(contexts.status(), "making the contexts");
  Sizes sizes;
  sizes.in /= scale;
  sizes.hidden /= scale;
  auto on_device = BuildStep(**contexts, "dev0");
  auto on_host = BuildStep(**contexts, "cpu");

  // The first steps agree with the host's (a few float32 ULP: the libraries' rounding).
  const std::vector<Tensor> start = Initial(sizes);
  std::vector<Tensor> host = start, dev = start;
  runtime::MemoryCounter* dev0 = (*(*contexts)->Find("dev0"))->memory;
  for (Tensor& t : dev) {  // the batch and the parameters resident on dev0
    auto up = runtime::IntoContext(t, dev0);
    bench::Check(up.status(), "moving the batch and parameters to dev0");
    t = *up;
  }
  auto step = [&](compile::Executable& exe, std::vector<Tensor>& state) {
    auto result = exe.Run(state, {});
    bench::Check(result.status(), "running a step");
    for (int k = 0; k < 6; ++k) state[2 + k] = result->outputs[1 + k];
    return double{*result->outputs[0].data<float>()};
  };
  for (int s = 0; s < 3; ++s) {
    const double want = step(*on_host, host), got = step(*on_device, dev);
    if (!(std::abs(got - want) <= 1e-4 * std::max(1.0, std::abs(want)))) {
      bench::Fail("step " + std::to_string(s) + ": loss " + std::to_string(got) + " on " + device +
                  ", " + std::to_string(want) + " on the host");
    }
  }
  std::vector<double> seconds;
  for (int r = 0; r < repeats; ++r) {
    const auto begin = std::chrono::steady_clock::now();
    step(*on_device, dev);  // the loss read back: the step is done
    seconds.push_back(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count());
  }
  std::printf("| %s | MLP step %lld-%lld-%lld-%lld, batch %lld, float32 | %.3f ms median of %d |\n",
              device.rfind("cuda", 0) == 0 ? cuda::DeviceName(0).c_str() : device.c_str(),
              static_cast<long long>(sizes.in), static_cast<long long>(sizes.hidden),
              static_cast<long long>(sizes.hidden), static_cast<long long>(sizes.classes),
              static_cast<long long>(sizes.batch), bench::Median(seconds) * 1e3, repeats);
  return 0;
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) { return tensord::Main(argc, argv); }
