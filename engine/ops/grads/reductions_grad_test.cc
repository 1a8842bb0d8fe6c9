// Finite-difference checks of the grad rules in reductions.cc, plus exact checks of the
// semantics finite differences cannot see (ties of max/min and sort, zeros of prod).
#include <gtest/gtest.h>

#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"

namespace tensord::ops {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;
using runtime::Tensor;
using Axes = std::vector<int64_t>;

Tensor ToFloat32(const Tensor& t) {
  Tensor out(DType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.num_elements(); ++i) out.data<float>()[i] = t.data<double>()[i];
  return out;
}

Tensor Values(runtime::Shape shape, const std::vector<double>& v) {
  Tensor t(DType::kFloat64, std::move(shape));
  std::copy(v.begin(), v.end(), t.data<double>());
  return t;
}

// attrs with `axis` when given (absent: all axes).
ir::Attrs AxisAttr(const std::optional<Axes>& axis) {
  if (!axis) return {};
  return {{"axis", *axis}};
}

// FD check of op(x; attrs) on one input.
void CheckUnary(const std::string& op, Tensor x, ir::Attrs attrs, double eps = 1e-6,
                double rtol = 1e-5) {
  SCOPED_TRACE(op + " of shape " + runtime::ShapeString(x.shape()));
  GradCheck c;
  c.inputs = {std::move(x)};
  c.eps = eps;
  c.rtol = rtol;
  if (c.inputs[0].dtype() == DType::kFloat32) c.atol = 1e-4;
  c.build = [op, attrs](NodeBuilder& b, const std::vector<ir::Variable*>& in) {
    return b.Apply(op, {in[0]}, attrs);
  };
  ExpectGradMatchesFiniteDifferences(c);
}

// The same check of the gradient itself: d/dx of grad(sum(op(x)^2), x), which exercises the
// rule's output as a differentiable graph (second derivatives, as hessians need).
void CheckSecondOrder(const std::string& op, Tensor x, ir::Attrs attrs) {
  SCOPED_TRACE("second order of " + op);
  GradCheck c;
  c.inputs = {std::move(x)};
  c.rtol = 1e-4;
  c.atol = 1e-6;
  c.build = [op, attrs](NodeBuilder& b, const std::vector<ir::Variable*>& in) -> ir::Variable* {
    ir::Variable* y = b.Apply(op, {in[0]}, attrs);
    grad::GradRequest req;
    req.cost = b.Apply("sum", {b.Mul(y, y)});
    req.wrt = {in[0]};
    auto r = grad::Grad(b.graph(), req, [](const ir::Variable* v) { return v->DisplayName(); });
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->gradients[0] : nullptr;
  };
  ExpectGradMatchesFiniteDifferences(c);
}

// d sum(op(x) * w) / dx evaluated exactly: for tie semantics.
std::vector<double> GradAt(const std::string& op, ir::Attrs attrs, const Tensor& x, const Tensor& w,
                           int output = 0) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* in = g->AddInput(ir::Type::Of(DType::kFloat64, x.ndim()), "x");
  g->inputs() = {in};
  NodeBuilder b(*g);
  ir::Variable* y = b.ApplyMulti(op, {in}, attrs).at(output);
  ir::Variable* wv = g->AddConstant(w, ir::Type::Of(DType::kFloat64, w.ndim()));
  grad::GradRequest req;
  req.cost = b.Apply("sum", {b.Mul(y, wv)});
  req.wrt = {in};
  auto r = grad::Grad(*g, req, [](const ir::Variable* v) { return v->DisplayName(); });
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  auto out = grad::testing::Evaluate(std::move(g), r->gradients, {x});
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  const Tensor& t = (*out)[0];
  std::vector<double> v;
  // Dense read through strides (outputs may be views).
  std::vector<int64_t> index(t.ndim(), 0);
  for (int64_t k = 0; k < t.num_elements(); ++k) {
    int64_t off = 0;
    for (int d = 0; d < t.ndim(); ++d) off += index[d] * t.strides()[d];
    v.push_back(t.data<double>()[off]);
    for (int d = t.ndim() - 1; d >= 0; --d) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return v;
}

const std::vector<std::pair<runtime::Shape, std::optional<Axes>>>& ReductionCases() {
  static const auto* cases = new std::vector<std::pair<runtime::Shape, std::optional<Axes>>>{
      {{}, std::nullopt},     {{5}, std::nullopt},     {{5}, Axes{0}},
      {{3, 4}, std::nullopt}, {{3, 4}, Axes{0}},       {{3, 4}, Axes{-1}},
      {{3, 4}, Axes{}},       {{2, 3, 4}, Axes{0, 2}}, {{2, 3, 4}, Axes{1}},
  };
  return *cases;
}

TEST(ReductionGrad, SumMaxMinMaxAndArgmaxMatchFiniteDifferences) {
  uint64_t seed = 1;
  for (const auto& [shape, axis] : ReductionCases()) {
    for (const char* op : {"sum", "max", "min", "max_and_argmax"})
      CheckUnary(op, RandomTensor(shape, seed++), AxisAttr(axis));
  }
  CheckUnary("max", ToFloat32(RandomTensor({3, 4}, 7)), AxisAttr(Axes{1}), 1e-3, 1e-2);
}

TEST(ReductionGrad, MaxAndMinGiveTiedElementsTheFullGradient) {
  // Theano's eq(x, max) * gz: both tied maxima (and both tied minima) get all of gz.
  Tensor x = Values({2, 3}, {1, 3, 3, 2, 0, 0});
  Tensor w = Values({2}, {10, 20});
  EXPECT_EQ(GradAt("max", AxisAttr(Axes{1}), x, w), (std::vector<double>{0, 10, 10, 20, 0, 0}));
  EXPECT_EQ(GradAt("min", AxisAttr(Axes{1}), x, w), (std::vector<double>{10, 0, 0, 0, 20, 20}));
  EXPECT_EQ(GradAt("max_and_argmax", AxisAttr(Axes{1}), x, w),
            (std::vector<double>{0, 10, 10, 20, 0, 0}));
}

TEST(ReductionGrad, ProdMatchesFiniteDifferencesWithAndWithoutZeros) {
  uint64_t seed = 20;
  for (const auto& [shape, axis] : ReductionCases())
    CheckUnary("prod", RandomTensor(shape, seed++, 0.5, 1.5), AxisAttr(axis));
  // Rows with no zero, one zero and two zeros (prod is a polynomial: smooth at zeros too).
  Tensor x = Values({3, 4}, {1.5, -2, 0.5, 3, 2, 0, -1.5, 0.7, 0, 1.2, 0, 2});
  CheckUnary("prod", x, AxisAttr(Axes{1}));
  CheckUnary("prod", x, AxisAttr(Axes{0}));
  CheckUnary("prod", x, {});
  CheckUnary("prod", x, {{"axis", Axes{1}}, {"dtype", DType::kFloat32}}, 1e-3, 1e-2);
  CheckUnary("prod", ToFloat32(RandomTensor({2, 3}, 9, 0.5, 1.5)), AxisAttr(Axes{0}), 1e-3, 1e-2);
}

TEST(ReductionGrad, ProdZeroCasesAreExact) {
  Tensor x = Values({3, 3}, {2, 3, 4, 2, 0, 5, 0, 3, 0});
  Tensor w = Values({3}, {1, 1, 1});
  // No zero: prod / x; one zero: the product of the others there, 0 elsewhere; two: all 0.
  EXPECT_EQ(GradAt("prod", AxisAttr(Axes{1}), x, w),
            (std::vector<double>{12, 8, 6, 0, 10, 0, 0, 0, 0}));
}

TEST(ReductionGrad, MeanVarStdMatchFiniteDifferences) {
  uint64_t seed = 40;
  for (const auto& [shape, axis] : ReductionCases()) {
    CheckUnary("mean", RandomTensor(shape, seed++), AxisAttr(axis));
    if (shape.empty() || (axis && axis->empty())) continue;  // var of one element: 0, kink
    for (const char* op : {"var", "std"}) {
      ir::Attrs attrs = AxisAttr(axis);
      CheckUnary(op, RandomTensor(shape, seed++), attrs);
      attrs["ddof"] = int64_t{1};
      CheckUnary(op, RandomTensor(shape, seed++), attrs);
      attrs["corrected"] = true;
      CheckUnary(op, RandomTensor(shape, seed++), attrs);
    }
  }
  CheckUnary("mean", ToFloat32(RandomTensor({3, 4}, 50)), AxisAttr(Axes{0}), 1e-3, 1e-2);
  CheckUnary("var", ToFloat32(RandomTensor({3, 4}, 51)), AxisAttr(Axes{1}), 1e-3, 1e-2);
  CheckUnary("std", ToFloat32(RandomTensor({3, 4}, 52)), {}, 1e-3, 1e-2);
}

TEST(ReductionGrad, CumopMatchesFiniteDifferences) {
  uint64_t seed = 60;
  for (const char* mode : {"add", "mul"}) {
    const ir::Attrs m = {{"mode", std::string(mode)}};
    auto with_axis = [&](int64_t axis) {
      ir::Attrs a = m;
      a["axis"] = axis;
      return a;
    };
    CheckUnary("cumop", RandomTensor({}, seed++, 0.5, 1.5), m);
    CheckUnary("cumop", RandomTensor({6}, seed++, 0.5, 1.5), m);
    CheckUnary("cumop", RandomTensor({6}, seed++, 0.5, 1.5), with_axis(0));
    CheckUnary("cumop", RandomTensor({3, 4}, seed++, 0.5, 1.5), m);
    CheckUnary("cumop", RandomTensor({3, 4}, seed++, 0.5, 1.5), with_axis(0));
    CheckUnary("cumop", RandomTensor({3, 4}, seed++, 0.5, 1.5), with_axis(-1));
    CheckUnary("cumop", RandomTensor({2, 3, 4}, seed++, 0.5, 1.5), with_axis(1));
    CheckUnary("cumop", RandomTensor({2, 3, 4}, seed++, 0.5, 1.5), m);
    CheckUnary("cumop", ToFloat32(RandomTensor({3, 4}, seed++, 0.5, 1.5)), with_axis(1), 1e-3,
               1e-2);
  }
  // Negative values for the product too (x only divides, so signs are fine).
  CheckUnary("cumop", RandomTensor({2, 5}, 70, -1.5, 1.5), {{"mode", std::string("mul")}});
}

TEST(ReductionGrad, SortMatchesFiniteDifferences) {
  uint64_t seed = 80;
  CheckUnary("sort", RandomTensor({6}, seed++), {{"axis", int64_t{0}}});
  CheckUnary("sort", RandomTensor({3, 4}, seed++), {{"axis", int64_t{0}}});
  CheckUnary("sort", RandomTensor({3, 4}, seed++), {{"axis", int64_t{1}}});
  CheckUnary("sort", RandomTensor({3, 4}, seed++), {{"axis", int64_t{-1}}});
  CheckUnary("sort", RandomTensor({2, 3, 4}, seed++), {{"axis", int64_t{1}}});
  CheckUnary("sort", ToFloat32(RandomTensor({2, 3, 4}, seed++)), {{"axis", int64_t{2}}}, 1e-3,
             1e-2);
}

TEST(ReductionGrad, SortRoutesTiesInStableOrder) {
  // sort([2, 1, 2, 0]) = [0, 1, 2, 2] takes x[3], x[1], x[0], x[2] (stable): each gets the
  // weight of the position it moved to.
  Tensor x = Values({4}, {2, 1, 2, 0});
  Tensor w = Values({4}, {10, 20, 30, 40});
  EXPECT_EQ(GradAt("sort", {{"axis", int64_t{0}}}, x, w), (std::vector<double>{30, 20, 40, 10}));
}

TEST(ReductionGrad, IntegerInputsGetZeroGradients) {
  // The rules never see integer inputs (the driver gives them float zeros).
  for (const char* op : {"prod", "max", "mean", "var", "cumop"}) {
    ir::Graph g;
    ir::Variable* n = g.AddInput(ir::Type::Of(DType::kInt32, 2), "n");
    NodeBuilder b(g);
    grad::GradRequest req;
    req.cost = b.Apply("sum", {b.Cast(b.Apply(op, {n}), DType::kFloat64)});
    req.wrt = {n};
    auto r = grad::Grad(g, req, [](const ir::Variable* v) { return v->DisplayName(); });
    ASSERT_TRUE(r.ok()) << op << ": " << r.status();
    EXPECT_EQ(r->gradients[0]->type, ir::Type::Of(DType::kFloat64, 2)) << op;
  }
}

TEST(ReductionGrad, GradientsAreDifferentiable) {
  Tensor x = RandomTensor({3, 4}, 90, 0.5, 1.5);
  CheckSecondOrder("sum", x, AxisAttr(Axes{1}));
  CheckSecondOrder("max", x, AxisAttr(Axes{1}));
  CheckSecondOrder("prod", x, AxisAttr(Axes{0}));
  CheckSecondOrder("prod", Values({2, 3}, {1.5, 0, 2, 0.5, 1.2, 0.8}), AxisAttr(Axes{1}));
  CheckSecondOrder("mean", x, {});
  CheckSecondOrder("var", x, AxisAttr(Axes{1}));
  CheckSecondOrder("std", x, {{"axis", Axes{0}}, {"ddof", int64_t{1}}});
  CheckSecondOrder("cumop", x, {{"axis", int64_t{1}}, {"mode", std::string("mul")}});
  CheckSecondOrder("cumop", x, {{"mode", std::string("add")}});
  CheckSecondOrder("sort", x, {{"axis", int64_t{0}}});
}

}  // namespace
}  // namespace tensord::ops
