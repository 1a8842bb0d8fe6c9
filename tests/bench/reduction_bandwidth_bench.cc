// Reductions against the memory bandwidth of the machine (issue 14): the bandwidth a plain
// OpenMP `c = a + b` reaches (STREAM's "add": 3 arrays of 4-byte words moved per element), and
// the bandwidth each reduction reads its input at, in the same process and on the same number
// of threads, run alternately so that load from other processes hits both alike. Prints a
// markdown table of medians (wall time: the kernels use every thread) and of the per-pair ratio.
// Not a test (ctest does not run it):
//
//   cmake --build build/NAME --target tensord_bench_reduction_bandwidth
//   build/NAME/engine/tensord_bench_reduction_bandwidth [--repeats=15] [--threads=2]
//       [--shape=256x256x256]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/ops/node_builder.h"
#include "engine/runtime/parallel.h"

namespace tensord {
namespace {

using runtime::Tensor;
using Clock = std::chrono::steady_clock;

void Die(const absl::Status& status) {
  std::fprintf(stderr, "%s\n", status.ToString().c_str());
  std::exit(1);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// c = a + b over float32 arrays, with OpenMP's static schedule; the arrays are first touched
// by the threads that use them, so each thread's pages sit where it runs.
class StreamAdd {
 public:
  explicit StreamAdd(int64_t n) : a_(n), b_(n), c_(n) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) a_[i] = 1.0f, b_[i] = 2.0f, c_[i] = 0.0f;
  }
  // GB/s of one run, counting 3 words an element (STREAM's convention).
  double RunGBs() {
    const int64_t n = static_cast<int64_t>(c_.size());
    const auto start = Clock::now();
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; ++i) c_[i] = a_[i] + b_[i];
    const double ms = MsSince(start);
    if (c_[n / 2] != 3.0f) std::exit(1);
    return 3.0 * 4.0 * static_cast<double>(n) / (ms * 1e6);
  }

 private:
  std::vector<float> a_, b_, c_;
};

struct Case {
  const char* label;
  const char* op;
  std::vector<int64_t> axes;  // empty: all
};

std::shared_ptr<compile::Executable> Compile(const Case& c, int ndim) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, ndim), "x");
  g->inputs() = {x};
  std::vector<int64_t> axes = c.axes;
  if (axes.empty())
    for (int d = 0; d < ndim; ++d) axes.push_back(d);
  ops::NodeBuilder b(*g);
  g->outputs() = {b.Apply(c.op, {x}, {{"axis", axes}})};
  if (!b.status().ok()) Die(b.status());
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, compile::CompileOptions{});
  if (!prepared.ok()) Die(prepared.status());
  auto exe = compile::BuildExecutable(*std::move(prepared));
  if (!exe.ok()) Die(exe.status());
  return *exe;
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) {
  using namespace tensord;
  int repeats = 15, threads = 2;
  runtime::Shape shape = {256, 256, 256};
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--repeats=", 0) == 0) repeats = std::max(1, std::atoi(arg.c_str() + 10));
    if (arg.rfind("--threads=", 0) == 0) threads = std::max(1, std::atoi(arg.c_str() + 10));
    if (arg.rfind("--shape=", 0) == 0) {
      shape.clear();
      for (const char* p = arg.c_str() + 8; *p;) {
        char* end;
        shape.push_back(std::strtoll(p, &end, 10));
        p = *end == 'x' ? end + 1 : end;
        if (end == p && *p) break;
      }
    }
  }
  omp_set_num_threads(threads);
  runtime::SetIntraOpThreads(threads);
  Tensor x(DType::kFloat32, shape);
  const int64_t n = x.num_elements();
  for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = static_cast<float>(i % 1000) * 1e-3f;
  StreamAdd stream(n);
  std::printf(
      "float32 %s (%lld MB), %d threads, median of %d; each reduction run alternates "
      "with an OpenMP c = a + b over arrays of the same size\n\n",
      runtime::ShapeString(shape).c_str(), static_cast<long long>(n * 4 >> 20), threads, repeats);
  std::printf("| case | ms | GB/s read | c = a + b GB/s | ratio |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  const int last = static_cast<int>(shape.size()) - 1;
  const std::vector<Case> cases = {
      {"sum, all axes", "sum", {}},    {"sum, axis 0", "sum", {0}},
      {"sum, axis -1", "sum", {last}}, {"sum, axes (0, -1)", "sum", {0, last}},
      {"max, all axes", "max", {}},    {"max, axis 0", "max", {0}},
      {"max, axis -1", "max", {last}}, {"mean, all axes", "mean", {}},
      {"mean, axis 0", "mean", {0}},   {"mean, axis -1", "mean", {last}},
  };
  for (const Case& c : cases) {
    auto exe = Compile(c, static_cast<int>(shape.size()));
    std::vector<double> ms, stream_gbs, ratio;
    for (int r = 0; r < repeats + 2; ++r) {
      const double add = stream.RunGBs();
      const auto start = Clock::now();
      auto result = exe->Run({x}, {});
      const double t = MsSince(start);
      if (!result.ok()) Die(result.status());
      if (r < 2) continue;  // warm-up: pages, frames, the pool's threads
      ms.push_back(t);
      stream_gbs.push_back(add);
      ratio.push_back(4.0 * static_cast<double>(n) / (t * 1e6) / add);
    }
    const double m = Median(ms);
    std::printf("| %s | %.2f | %.1f | %.1f | %.0f%% |\n", c.label, m,
                4.0 * static_cast<double>(n) / (m * 1e6), Median(stream_gbs),
                100.0 * Median(ratio));
    std::fflush(stdout);
  }
  return 0;
}
