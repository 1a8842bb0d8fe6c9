// Elementwise fusion figure for docs/performance.md (issue 5): a chain of 8 elementwise ops over
// 4M float32, compiled with the full FAST_RUN pipeline with fusion on and off
// (optimizer_excluding=fusion), run alternately `--repeats` times each; prints a markdown table of
// the medians and speedups, and fails if the two outputs differ. Not a test (ctest does not run
// it):
//
//   cmake --build build/NAME --target tensord_bench_fusion
//   build/NAME/engine/tensord_bench_fusion [--repeats=21] [--elements=4194304] [--op=tanh]
//   [--print]
//
// The chain is op((((x * a + b) * c - d) * e + f) * g), the 8th op one of maximum(., a) and sqr
// (all arithmetic), exp and tanh (one transcendental). The coefficients are 0-d inputs, so
// the algebra passes cannot fold them away and both variants compute the same nodes.
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/frontend/printer.h"
#include "engine/ops/node_builder.h"
#include "engine/runtime/parallel.h"

namespace tensord {
namespace {

using runtime::Tensor;

std::unique_ptr<ir::Graph> Chain(const std::string& last) {
  auto g = std::make_unique<ir::Graph>();
  const DType f = DType::kFloat32;
  ir::Variable* x = g->AddInput(ir::Type::Of(f, 1), "x");
  std::vector<ir::Variable*> k;
  for (const char* name : {"a", "b", "c", "d", "e", "f", "g"})
    k.push_back(g->AddInput(ir::Type::Scalar(f), name));
  g->inputs() = {x};
  g->inputs().insert(g->inputs().end(), k.begin(), k.end());
  ops::NodeBuilder b(*g);
  ir::Variable* y = b.Add(b.Mul(x, k[0]), k[1]);
  y = b.Sub(b.Mul(y, k[2]), k[3]);
  y = b.Add(b.Mul(y, k[4]), k[5]);
  y = b.Mul(y, k[6]);
  y = last == "maximum" ? b.Apply("maximum", {y, k[0]}) : b.Apply(last, {y});
  g->outputs() = {y};
  if (!b.status().ok()) {
    std::fprintf(stderr, "%s\n", b.status().ToString().c_str());
    std::exit(1);
  }
  return g;
}

void Die(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::exit(1);
}

std::shared_ptr<compile::Executable> Compile(bool fusion, const std::string& op) {
  compile::CompileOptions options;
  if (!fusion) options.optimizer_excluding = {"fusion"};
  auto prepared = compile::PrepareFunction(Chain(op), {}, {}, options);
  if (!prepared.ok()) Die(prepared.status());
  auto exe = compile::BuildExecutable(*std::move(prepared));
  if (!exe.ok()) Die(exe.status());
  return *exe;
}

// This thread's CPU time (user + system, page faults included) in ms: unlike wall time it does
// not count the time other processes hold the core, which on a shared machine is most of it.
double ThreadMs() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

double RunMs(const compile::Executable& exe, const std::vector<Tensor>& inputs, Tensor* out) {
  *out = Tensor();  // as a server does once the reply is sent: the allocator may reuse it
  const double start = ThreadMs();
  auto result = exe.Run(inputs, {});
  const double stop = ThreadMs();
  if (!result.ok()) Die(result.status());
  *out = result->outputs[0];
  return stop - start;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) {
  using namespace tensord;
  int repeats = 21;
  int64_t n = int64_t{4} << 20;
  std::vector<std::string> ops = {"maximum", "sqr", "exp", "tanh"};
  bool print = false;  // --print: the optimized graphs too
  // Thread CPU time measures one thread: keep each kernel on it (what fusion saves is the same
  // per thread; peers.py measures the server's wall time with every core).
  runtime::SetIntraOpThreads(1);
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--repeats=", 0) == 0) repeats = std::max(1, std::atoi(arg.c_str() + 10));
    if (arg.rfind("--elements=", 0) == 0) n = std::max<int64_t>(1, std::atoll(arg.c_str() + 11));
    if (arg.rfind("--op=", 0) == 0) ops = {arg.substr(5)};
    if (arg == "--print") print = true;
  }
  std::vector<Tensor> inputs;
  Tensor x(DType::kFloat32, {n});
  for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = std::sin(static_cast<float>(i) * 1e-3f);
  inputs.push_back(x);
  for (float v : {1.5f, 0.5f, 0.9f, 0.1f, 1.1f, -0.2f, 0.7f}) {
    Tensor s(DType::kFloat32, {});
    *s.data<float>() = v;
    inputs.push_back(s);
  }
  std::printf("8 elementwise ops over %lld float32; median thread CPU time of %d runs\n\n",
              static_cast<long long>(n), repeats);
  std::printf("| 8th op | unfused (instructions, ms) | fused (instructions, ms) | speedup |\n");
  std::printf("| --- | --- | --- | --- |\n");
  for (const std::string& op : ops) {
    auto unfused = Compile(false, op);
    auto fused = Compile(true, op);
    if (print) {
      std::printf("unfused:\n%s\nfused:\n%s\n", ir::DebugPrint(unfused->graph()).c_str(),
                  ir::DebugPrint(fused->graph()).c_str());
    }
    // Alternate the two so that load from other processes hits both alike; two warm-up runs
    // each fill the frames' buffers.
    std::vector<double> unfused_ms, fused_ms;
    Tensor unfused_out, fused_out;
    for (int r = 0; r < repeats + 2; ++r) {
      const double u = RunMs(*unfused, inputs, &unfused_out);
      const double f = RunMs(*fused, inputs, &fused_out);
      if (r >= 2) unfused_ms.push_back(u), fused_ms.push_back(f);
    }
    // Fusion evaluates the same scalar ops in the same order: the outputs are identical.
    for (int64_t i = 0; i < n; ++i) {
      const float a = fused_out.data<float>()[i], b = unfused_out.data<float>()[i];
      if (a != b && !(std::isnan(a) && std::isnan(b))) {
        std::fprintf(stderr, "%s: element %lld differs: %g fused, %g unfused\n", op.c_str(),
                     static_cast<long long>(i), a, b);
        return 1;
      }
    }
    const double u = Median(unfused_ms), f = Median(fused_ms);
    std::printf("| %s | %d, %.2f | %d, %.2f | %.2fx |\n", op.c_str(), unfused->node_count(), u,
                fused->node_count(), f, u / f);
    std::fflush(stdout);
  }
  return 0;
}
