// Cost of profiling for docs/performance.md (issue 7): a chain of 64 adds over 16-element
// float32 vectors (so per-instruction overhead, not arithmetic, dominates), compiled in
// FAST_COMPILE (no fusion: 64 instructions), run with profiling off (Run without a trace: the
// plain instruction loop) and on (a RunTrace: the clock read around every instruction), in
// alternating rounds; prints the medians per run and per instruction. Not a test:
//
//   cmake --build build/NAME --target tensord_bench_profiling
//   build/NAME/engine/tensord_bench_profiling [--runs=20000] [--rounds=11]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"

namespace tensord {
namespace {

using Clock = std::chrono::steady_clock;

std::shared_ptr<compile::Executable> Chain(int n) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "x");
  g->inputs() = {x};
  ops::NodeBuilder b(*g);
  ir::Variable* v = x;
  for (int i = 0; i < n; ++i) v = b.Add(v, x);
  g->outputs() = {v};
  compile::CompileOptions options;
  options.mode = "FAST_COMPILE";
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  if (!prepared.ok()) return nullptr;
  auto exe = compile::BuildExecutable(*std::move(prepared));
  return exe.ok() ? *exe : nullptr;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Main(int argc, char** argv) {
  int runs = 20000, rounds = 11;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--runs=", 7) == 0) runs = std::atoi(argv[i] + 7);
    if (std::strncmp(argv[i], "--rounds=", 9) == 0) rounds = std::atoi(argv[i] + 9);
  }
  constexpr int kNodes = 64;
  auto exe = Chain(kNodes);
  if (exe == nullptr || exe->node_count() != kNodes) {
    std::fprintf(stderr, "compiling the chain failed\n");
    return 1;
  }
  runtime::Tensor x(DType::kFloat32, {16});
  std::fill(x.data<float>(), x.data<float>() + 16, 1.0f);
  std::vector<double> off, on;
  compile::RunTrace trace;
  for (int r = 0; r < rounds; ++r) {
    for (bool profiled : {false, true}) {
      auto start = Clock::now();
      for (int i = 0; i < runs; ++i) {
        auto result = exe->Run({x}, {}, profiled ? &trace : nullptr);
        if (!result.ok()) return 1;
      }
      double ns = std::chrono::duration<double, std::nano>(Clock::now() - start).count() / runs;
      (profiled ? on : off).push_back(ns);
    }
  }
  const double a = Median(off), b = Median(on);
  std::printf("| profiling | ns per run | ns per instruction |\n| --- | --- | --- |\n");
  std::printf("| off | %.0f | %.1f |\n| on | %.0f | %.1f |\n", a, a / kNodes, b, b / kNodes);
  return 0;
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) { return tensord::Main(argc, argv); }
