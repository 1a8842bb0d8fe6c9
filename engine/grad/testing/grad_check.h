// Test support: checks an expression's gradient (engine/grad + the ops' grad rules) against
// central finite differences, as theano.gradient.verify_grad does, on the CPU executor.
#pragma once

#include <functional>
#include <vector>

#include "engine/ops/node_builder.h"
#include "engine/runtime/tensor.h"

namespace tensord::grad::testing {

// Builds the expression under test from the inputs (one per GradCheck::inputs entry).
using BuildFn =
    std::function<ir::Variable*(ops::NodeBuilder& b, const std::vector<ir::Variable*>& inputs)>;

struct GradCheck {
  std::vector<runtime::Tensor> inputs;
  BuildFn build;
  // Inputs to differentiate with respect to (indices); empty: every float input.
  std::vector<int> wrt;
  double eps = 1e-6;
  double rtol = 1e-5;
  double atol = 1e-7;
  // Broadcastable flags per input; empty: none broadcastable.
  std::vector<std::vector<bool>> broadcastable;
};

// Random float64 values uniform in [low, high).
runtime::Tensor RandomTensor(runtime::Shape shape, uint64_t seed, double low = -1, double high = 1);

// Compiles `graph` (its inputs set) with `outputs` and runs it once on `inputs`.
absl::StatusOr<std::vector<runtime::Tensor>> Evaluate(std::unique_ptr<ir::Graph> graph,
                                                      std::vector<ir::Variable*> outputs,
                                                      const std::vector<runtime::Tensor>& inputs);

// d cost / d x, built into b's graph; a test failure and null when differentiation fails.
ir::Variable* GradOf(ops::NodeBuilder& b, ir::Variable* cost, ir::Variable* x);

// Second derivatives through finite differences: for each f, the gradient of sum(f(x)^3) with
// respect to x (so the grad rules of f's ops are differentiated again) on a random x of `shape`.
using UnaryBuildFn = std::function<ir::Variable*(ops::NodeBuilder& b, ir::Variable* x)>;
void ExpectSecondDerivativesMatch(const runtime::Shape& shape, uint64_t seed,
                                  const std::vector<UnaryBuildFn>& fs);

// The cost is sum(expr * w) for a fixed random w, so every output element is checked with a
// distinct weight. Reports mismatches with gtest (ADD_FAILURE) naming the input and element.
void ExpectGradMatchesFiniteDifferences(const GradCheck& check);

}  // namespace tensord::grad::testing
