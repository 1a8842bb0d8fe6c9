// What the engine-level benchmarks (cuda_bench.cc, cuda_mlp_bench.cc) share beside cpp_bench.h:
// compiling a graph against a context registry.
#pragma once

#include <memory>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/context/context.h"
#include "tests/bench/cpp_bench.h"

namespace tensord::bench {

// `g` compiled with FAST_RUN on `contexts`, the function's own context the host; a failure
// ends the benchmark.
inline std::shared_ptr<compile::Executable> CompileOnHost(
    std::unique_ptr<ir::Graph> g, const context::ContextRegistry& contexts) {
  compile::CompileOptions options;
  options.contexts = &contexts;
  options.context = *contexts.Find("cpu");
  auto prepared = compile::PrepareFunction(std::move(g), {}, {}, options);
  Check(prepared.status(), "compiling");
  auto exe = compile::BuildExecutable(*std::move(prepared));
  Check(exe.status(), "building the executable");
  return *exe;
}

}  // namespace tensord::bench
