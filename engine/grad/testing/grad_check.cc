#include "engine/grad/testing/grad_check.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "engine/compile/compiler.h"
#include "engine/compile/modes.h"
#include "engine/grad/grad.h"

namespace tensord::grad::testing {
namespace {

using runtime::Tensor;

struct Built {
  std::unique_ptr<ir::Graph> graph;
  std::vector<ir::Variable*> inputs;
  ir::Variable* expr = nullptr;
};

Built BuildExpression(const GradCheck& c) {
  Built out;
  out.graph = std::make_unique<ir::Graph>();
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    ir::Type t = ir::Type::Of(c.inputs[i].dtype(), c.inputs[i].ndim());
    if (i < c.broadcastable.size() && !c.broadcastable[i].empty())
      t.broadcastable = c.broadcastable[i];
    out.inputs.push_back(out.graph->AddInput(t, "x" + std::to_string(i)));
  }
  out.graph->inputs() = out.inputs;
  ops::NodeBuilder b(*out.graph);
  out.expr = c.build(b, out.inputs);
  EXPECT_TRUE(b.status().ok()) << b.status();
  return out;
}

absl::StatusOr<std::shared_ptr<compile::Executable>> Compile(Built built,
                                                             std::vector<ir::Variable*> outputs) {
  built.graph->outputs() = std::move(outputs);
  TENSORD_ASSIGN_OR_RETURN(auto prepared,
                           compile::PrepareFunction(std::move(built.graph), {}, {}, {}));
  return compile::BuildExecutable(std::move(prepared));
}

// Compiles `built` with `outputs` and runs it once on `inputs`.
absl::StatusOr<std::vector<Tensor>> CompileAndRun(Built built, std::vector<ir::Variable*> outputs,
                                                  const std::vector<Tensor>& inputs) {
  TENSORD_ASSIGN_OR_RETURN(auto exe, Compile(std::move(built), std::move(outputs)));
  TENSORD_ASSIGN_OR_RETURN(auto result, exe->Run(inputs, {}));
  return std::move(result.outputs);
}

double ToDouble(const Tensor& t, int64_t i) {
  if (t.dtype() == DType::kFloat32) return t.data<float>()[i];
  return t.data<double>()[i];
}

// A contiguous copy (run outputs may be strided views).
Tensor Dense(const Tensor& t) {
  Tensor out(t.dtype(), t.shape());
  const int64_t n = t.num_elements();
  const int nd = t.ndim();
  std::vector<int64_t> index(nd, 0);
  const size_t size = DTypeSize(t.dtype());
  for (int64_t k = 0; k < n; ++k) {
    int64_t offset = 0;
    for (int d = 0; d < nd; ++d) offset += index[d] * t.strides()[d];
    std::memcpy(static_cast<char*>(out.raw()) + k * size,
                static_cast<const char*>(t.raw()) + offset * size, size);
    for (int d = nd - 1; d >= 0; --d) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<Tensor>> Evaluate(std::unique_ptr<ir::Graph> graph,
                                             std::vector<ir::Variable*> outputs,
                                             const std::vector<Tensor>& inputs) {
  Built built;
  built.graph = std::move(graph);
  return CompileAndRun(std::move(built), std::move(outputs), inputs);
}

Tensor RandomTensor(runtime::Shape shape, uint64_t seed, double low, double high) {
  Tensor t(DType::kFloat64, std::move(shape));
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(low, high);
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<double>()[i] = dist(rng);
  return t;
}

void ExpectGradMatchesFiniteDifferences(const GradCheck& c) {
  std::vector<int> wrt = c.wrt;
  if (wrt.empty()) {
    for (size_t i = 0; i < c.inputs.size(); ++i)
      if (IsFloat(c.inputs[i].dtype())) wrt.push_back(static_cast<int>(i));
  }
  // Forward once for the output's shape, then fix the cost's random weights.
  Built probe = BuildExpression(c);
  ir::Variable* expr = probe.expr;
  auto forward = CompileAndRun(std::move(probe), {expr}, c.inputs);
  ASSERT_TRUE(forward.ok()) << forward.status();
  const Tensor& out = (*forward)[0];
  Tensor weights = RandomTensor(out.shape(), 1234);

  auto build_cost = [&](Built& b) {
    ir::Variable* w = b.graph->AddConstant(weights, ir::Type::Of(DType::kFloat64, out.ndim()));
    ops::NodeBuilder gb(*b.graph);
    ir::Variable* cost = gb.Apply("sum", {gb.Mul(b.expr, w)});
    EXPECT_TRUE(gb.status().ok()) << gb.status();
    return cost;
  };

  // Analytic gradients.
  Built g = BuildExpression(c);
  ir::Variable* cost = build_cost(g);
  GradRequest req;
  req.cost = cost;
  for (int i : wrt) req.wrt.push_back(g.inputs[i]);
  auto grads = Grad(*g.graph, req, [](const ir::Variable* v) { return v->DisplayName(); });
  ASSERT_TRUE(grads.ok()) << grads.status();
  for (size_t k = 0; k < wrt.size(); ++k) {
    EXPECT_EQ(grads->gradients[k]->type, g.inputs[wrt[k]]->type)
        << "gradient type of input " << wrt[k];
  }
  auto analytic = CompileAndRun(std::move(g), grads->gradients, c.inputs);
  ASSERT_TRUE(analytic.ok()) << analytic.status();

  // Central differences of the cost.
  Built f = BuildExpression(c);
  ir::Variable* fc = build_cost(f);
  auto cost_fn = Compile(std::move(f), {fc});
  ASSERT_TRUE(cost_fn.ok()) << cost_fn.status();
  auto cost_at = [&](const std::vector<Tensor>& inputs) -> double {
    auto r = (*cost_fn)->Run(inputs, {});
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? ToDouble(r->outputs[0], 0) : NAN;
  };
  for (size_t k = 0; k < wrt.size(); ++k) {
    const int i = wrt[k];
    Tensor got = Dense((*analytic)[k]);
    ASSERT_EQ(got.shape(), c.inputs[i].shape()) << "gradient shape of input " << i;
    for (int64_t e = 0; e < c.inputs[i].num_elements(); ++e) {
      std::vector<Tensor> plus, minus;
      for (const Tensor& t : c.inputs) {
        plus.push_back(Dense(t));
        minus.push_back(Dense(t));
      }
      if (c.inputs[i].dtype() == DType::kFloat32) {
        plus[i].data<float>()[e] += static_cast<float>(c.eps);
        minus[i].data<float>()[e] -= static_cast<float>(c.eps);
      } else {
        plus[i].data<double>()[e] += c.eps;
        minus[i].data<double>()[e] -= c.eps;
      }
      const double numeric = (cost_at(plus) - cost_at(minus)) / (2 * c.eps);
      const double analytic_value = ToDouble(got, e);
      EXPECT_NEAR(analytic_value, numeric, c.atol + c.rtol * std::abs(numeric))
          << "d cost / d input " << i << " element " << e;
    }
  }
}

ir::Variable* GradOf(ops::NodeBuilder& b, ir::Variable* cost, ir::Variable* x) {
  GradRequest req;
  req.cost = cost;
  req.wrt = {x};
  auto r = Grad(b.graph(), req, [](const ir::Variable* v) { return v->DisplayName(); });
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->gradients[0] : nullptr;
}

void ExpectSecondDerivativesMatch(const runtime::Shape& shape, uint64_t seed,
                                  const std::vector<UnaryBuildFn>& fs) {
  for (const UnaryBuildFn& f : fs) {
    GradCheck c;
    c.inputs = {RandomTensor(shape, seed)};
    c.build = [&f](ops::NodeBuilder& b, const std::vector<ir::Variable*>& x) {
      ir::Variable* y = f(b, x[0]);
      ir::Variable* cost = b.Apply("sum", {b.Apply("mul", {y, y, y})});
      return GradOf(b, cost, x[0]);
    };
    c.rtol = 1e-4;
    c.atol = 1e-6;
    ExpectGradMatchesFiniteDifferences(c);
  }
}

}  // namespace tensord::grad::testing
