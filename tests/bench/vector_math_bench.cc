// Vector math figure for docs/performance.md (issue 14): nanoseconds per element of each
// function of engine/ops/scalar/vector_math.h, on each instruction set's loops this CPU has, one
// thread, float32 and float64, over `--elements` inputs spread over [-5, 5) (median of
// `--repeats` passes). Not a test (ctest does not run it):
//
//   cmake --build build/NAME --target tensord_bench_vector_math
//   build/NAME/engine/tensord_bench_vector_math [--repeats=15] [--elements=131072]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "engine/ops/scalar/vector_math.h"
#include "tests/bench/cpp_bench.h"

namespace tensord {
namespace {

using vmath::Fn;

// In Fn's order.
constexpr const char* kNames[] = {"exp",  "exp2", "expm1", "log",  "log2",    "log10",   "log1p",
                                  "sin",  "cos",  "tan",   "asin", "acos",    "atan",    "sinh",
                                  "cosh", "tanh", "erf",   "erfc", "sigmoid", "softplus"};
static_assert(std::size(kNames) == static_cast<size_t>(Fn::kCount));

template <class T>
double NsPerElement(vmath::Unary<T> loop, const std::vector<T>& x, int repeats) {
  std::vector<T> r(x.size());
  const int64_t n = static_cast<int64_t>(x.size());
  loop(x.data(), r.data(), n);  // warm
  std::vector<double> ns;
  for (int i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    loop(x.data(), r.data(), n);
    ns.push_back(
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count() /
        static_cast<double>(n));
  }
  return bench::Median(ns);
}

int Main(int argc, char** argv) {
  int repeats = 15;
  int64_t elements = 131072;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--repeats=", 10) == 0) {
      repeats = std::atoi(argv[i] + 10);
    } else if (std::strncmp(argv[i], "--elements=", 11) == 0) {
      elements = std::atoll(argv[i] + 11);
    } else {
      bench::Fail(std::string("unknown flag ") + argv[i]);
    }
  }
  if (repeats < 1 || elements < 1) bench::Fail("--repeats and --elements must be positive");
  std::vector<float> xf(elements);
  std::vector<double> xd(elements);
  for (int64_t i = 0; i < elements; ++i) {
    xd[i] = -5 + 10 * static_cast<double>(i) / static_cast<double>(elements);
    xf[i] = static_cast<float>(xd[i]);
  }
  std::vector<const vmath::Table*> sets;
  std::printf("| function |");
  for (vmath::Isa isa : {vmath::Isa::kAvx512, vmath::Isa::kAvx2, vmath::Isa::kSse2}) {
    if (const vmath::Table* t = vmath::LoopsFor(isa)) {
      sets.push_back(t);
      std::printf(" %s float32 | %s float64 |", t->isa, t->isa);
    }
  }
  std::printf("\n| --- |");
  for (size_t i = 0; i < sets.size(); ++i) std::printf(" --- | --- |");
  std::printf("\n");
  for (int f = 0; f < static_cast<int>(Fn::kCount); ++f) {
    std::printf("| %s |", kNames[f]);
    for (const vmath::Table* t : sets) {
      std::printf(" %.3f | %.3f |", NsPerElement(t->f32[f], xf, repeats),
                  NsPerElement(t->f64[f], xd, repeats));
    }
    std::printf("\n");
  }
  return 0;
}

}  // namespace
}  // namespace tensord

int main(int argc, char** argv) { return tensord::Main(argc, argv); }
