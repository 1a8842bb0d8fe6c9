// Test support for optimizer passes: build the same small graph twice, rewrite one copy, check
// the structure of the result and that both copies compute the same values.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/ops/node_builder.h"
#include "engine/passes/pass.h"
#include "engine/runtime/tensor.h"

namespace tensord::passes::testing {

using BuildFn = std::function<std::vector<ir::Variable*>(ops::NodeBuilder& b,
                                                         const std::vector<ir::Variable*>& in)>;

struct Built {
  std::unique_ptr<ir::Graph> graph;
  std::vector<ir::Variable*> inputs;
};

// A graph with inputs of `types` (named x0, x1, ...; or `names`) and the outputs `build` returns.
Built Build(const std::vector<ir::Type>& types, const BuildFn& build,
            const std::vector<std::string>& names = {});

// Runs `passes` in order (dead code removed at the end), verifying the graph after each.
absl::StatusOr<bool> Rewrite(ir::Graph& graph, const std::vector<Pass*>& passes);

// Compiles `graph` without any optimizer pass and runs it once.
absl::StatusOr<std::vector<runtime::Tensor>> EvaluateUnoptimized(
    std::unique_ptr<ir::Graph> graph, const std::vector<runtime::Tensor>& inputs);

// An expression text of `v`: op(args...), inputs by name, 0-d constants by value,
// dimshuffle{order} and cast{dtype} with their attributes: "log1p(x0)", "add(x0, x1, 2)".
std::string Expr(const ir::Variable* v);

// Expr of every graph output, joined with "; ".
std::string Exprs(const ir::Graph& graph);

// What a rewrite did: the rewritten graph's Exprs, and whether any pass reported a change.
struct Outcome {
  bool changed = false;
  std::string expr;
};

// Builds the graph twice, rewrites one copy with `passes`, evaluates both on `inputs` (values
// also fix the input types: dtype and rank, nothing broadcastable unless `types` is given) and
// expects equal results within `rtol` (NaN equals NaN). Returns what the rewrite produced.
Outcome ExpectRewriteKeepsValues(const std::vector<Pass*>& passes,
                                 const std::vector<runtime::Tensor>& inputs, const BuildFn& build,
                                 double rtol = 1e-6, std::vector<ir::Type> types = {});

// A tensor of `dtype` and `shape` holding `values` (converted), repeated cyclically.
// Same dtype, shape and values: integers exactly, floats within rtol of the element or of the
// largest finite element (so cancellation near zero passes); NaN matches NaN.
void ExpectSameValues(const runtime::Tensor& want, const runtime::Tensor& got, double rtol,
                      const std::string& what);

runtime::Tensor MakeTensor(DType dtype, runtime::Shape shape, const std::vector<double>& values);

}  // namespace tensord::passes::testing
