// Finite-difference checks of the grad rules in elementwise_math.cc and transcendental.cc,
// Theano's tie semantics, and the psi / tri_gamma kernels against reference values.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"

namespace tensord::ops {
namespace {

using grad::testing::Evaluate;
using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;
using ir::Variable;
using runtime::Tensor;

std::string Label(const Variable* v) { return v->DisplayName(); }

// t's values in `dtype` (float32 or int32).
Tensor AsType(const Tensor& t, DType dtype) {
  Tensor out(dtype, t.shape());
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    if (dtype == DType::kFloat32) {
      out.data<float>()[i] = static_cast<float>(t.data<double>()[i]);
    } else {
      out.data<int32_t>()[i] = static_cast<int32_t>(std::round(t.data<double>()[i]));
    }
  }
  return out;
}

Tensor Vector(const std::vector<double>& values) {
  Tensor t(DType::kFloat64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<double>());
  return t;
}

const std::vector<runtime::Shape> kShapes = {{}, {5}, {2, 3}, {2, 2, 3}};

struct UnaryCase {
  const char* op;
  double low, high;  // a range where the op is smooth
};

const UnaryCase kUnary[] = {
    {"abs", -2, 2},
    {"sqr", -2, 2},
    {"sqrt", 0.5, 3},
    {"expm1", -2, 2},
    {"log1p", -0.5, 2},
    {"log2", 0.5, 3},
    {"log10", 0.5, 3},
    {"sin", -3, 3},
    {"cos", -3, 3},
    {"tan", -1.2, 1.2},
    {"arcsin", -0.9, 0.9},
    {"arccos", -0.9, 0.9},
    {"arctan", -3, 3},
    {"sinh", -2, 2},
    {"cosh", -2, 2},
    {"tanh", -2, 2},
    {"erf", -2, 2},
    {"erfc", -2, 2},
    {"gamma", 0.5, 4},
    {"gammaln", 0.5, 5},
    {"psi", 0.5, 5},
    {"sigmoid", -4, 4},
    {"softplus", -4, 4},
    // The gamma family between its poles, where gamma is negative.
    {"gamma", -2.8, -2.2},
    {"gammaln", -2.8, -2.2},
    {"psi", -2.8, -2.2},
    // Piecewise constant: zero gradients (random points are never at a jump).
    {"sgn", -2, 2},
    {"floor", -3, 3},
    {"ceil", -3, 3},
    {"trunc", -3, 3},
    {"round_half_to_even", -3, 3},
    {"round_half_away_from_zero", -3, 3}};

GradCheck UnaryCheck(const std::string& op, Tensor x) {
  GradCheck c;
  c.inputs = {std::move(x)};
  c.build = [op](NodeBuilder& b, const std::vector<Variable*>& in) { return b.Apply(op, {in[0]}); };
  return c;
}

TEST(ElementwiseMathGrad, UnaryOpsMatchFiniteDifferencesAtEveryRank) {
  uint64_t seed = 1;
  for (const UnaryCase& u : kUnary) {
    for (const runtime::Shape& shape : kShapes) {
      SCOPED_TRACE(std::string(u.op) + " rank " + std::to_string(shape.size()));
      ExpectGradMatchesFiniteDifferences(
          UnaryCheck(u.op, RandomTensor(shape, seed++, u.low, u.high)));
    }
  }
}

TEST(ElementwiseMathGrad, Float32UnaryOpsMatchFiniteDifferences) {
  uint64_t seed = 100;
  for (const UnaryCase& u : kUnary) {
    SCOPED_TRACE(u.op);
    GradCheck c =
        UnaryCheck(u.op, AsType(RandomTensor({2, 3}, seed++, u.low, u.high), DType::kFloat32));
    c.eps = 1e-3;
    c.rtol = 1e-2;
    c.atol = 1e-3;
    ExpectGradMatchesFiniteDifferences(c);
  }
}

// Constants and intermediate results of a float32 gradient stay float32: no node of the
// gradient graph computes in float64 (which the driver's final cast would hide).
TEST(ElementwiseMathGrad, Float32GradientsAreComputedInFloat32) {
  const std::vector<std::pair<std::string, int>> ops = {
      {"maximum", 2}, {"minimum", 2}, {"clip", 3}, {"mod", 2}, {"int_div", 2},
      {"arctan2", 2}, {"switch", 3},  {"sqrt", 1}, {"abs", 1}, {"sqr", 1}};
  std::vector<std::pair<std::string, int>> all = ops;
  for (const UnaryCase& u : kUnary) all.push_back({u.op, 1});
  for (const auto& [op, arity] : all) {
    SCOPED_TRACE(op);
    ir::Graph g;
    std::vector<Variable*> in;
    for (int i = 0; i < arity; ++i) in.push_back(g.AddInput(ir::Type::Of(DType::kFloat32, 2), "x"));
    NodeBuilder b(g);
    grad::GradRequest req;
    req.cost = b.Sum(b.Apply(op, in), {0, 1});
    req.wrt = in;
    auto r = grad::Grad(g, req, Label);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const auto& node : g.applies())
      for (const Variable* out : node->outputs)
        EXPECT_NE(out->type.dtype, DType::kFloat64) << node->op << " computes in float64";
  }
}

// Second derivatives: the gradient graphs are themselves differentiable (hessians).
TEST(ElementwiseMathGrad, SecondDerivativesMatchFiniteDifferences) {
  uint64_t seed = 200;
  for (const UnaryCase& u : kUnary) {
    if (std::string(u.op) == "psi") continue;  // psi'' needs tri_gamma', which Theano lacks
    SCOPED_TRACE(u.op);
    GradCheck c;
    c.inputs = {RandomTensor({2, 3}, seed++, u.low, u.high)};
    const std::string op = u.op;
    c.build = [op](NodeBuilder& b, const std::vector<Variable*>& x) -> Variable* {
      grad::GradRequest req;
      req.cost = b.Sum(b.Apply(op, {x[0]}), {0, 1});
      req.wrt = {x[0]};
      auto r = grad::Grad(b.graph(), req, Label);
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? r->gradients[0] : nullptr;
    };
    c.rtol = 1e-4;
    c.atol = 1e-6;
    ExpectGradMatchesFiniteDifferences(c);
  }
}

TEST(ElementwiseMathGrad, ThirdDerivativeOfGammalnIsNotDefined) {
  ir::Graph g;
  Variable* x = g.AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  NodeBuilder b(g);
  Variable* d = b.Apply("gammaln", {x});
  for (int order = 1; order <= 3; ++order) {
    grad::GradRequest req;
    req.cost = b.Sum(d, {0});
    req.wrt = {x};
    auto r = grad::Grad(g, req, Label);
    if (order < 3) {
      ASSERT_TRUE(r.ok()) << r.status();
      d = r->gradients[0];
      continue;
    }
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("'tri_gamma' is not defined"), std::string::npos)
        << r.status();
  }
}

// ---- several inputs: broadcasting, mixed dtypes ----

GradCheck Binary(const std::string& op, std::vector<Tensor> inputs) {
  GradCheck c;
  c.inputs = std::move(inputs);
  c.build = [op](NodeBuilder& b, const std::vector<Variable*>& x) { return b.Apply(op, x); };
  return c;
}

TEST(ElementwiseMathGrad, BinaryOpsMatchFiniteDifferencesWithBroadcasting) {
  struct Case {
    const char* op;
    double low0, high0, low1, high1;
  };
  // mod / int_div: random points are never where x / y crosses an integer.
  const Case cases[] = {{"maximum", -2, 2, -2, 2},    {"minimum", -2, 2, -2, 2},
                        {"mod", -5, 5, 1.1, 2.9},     {"mod", -5, 5, -2.9, -1.1},
                        {"int_div", -5, 5, 1.1, 2.9}, {"arctan2", -2, 2, -2, 2}};
  const std::vector<std::pair<runtime::Shape, runtime::Shape>> shapes = {
      {{}, {}}, {{5}, {5}}, {{3, 4}, {4}}, {{3, 1}, {3, 4}}, {{}, {2, 3}}, {{2, 1, 4}, {3, 1}}};
  uint64_t seed = 300;
  for (const Case& k : cases) {
    for (const auto& [s0, s1] : shapes) {
      SCOPED_TRACE(std::string(k.op) + " ranks " + std::to_string(s0.size()) + "," +
                   std::to_string(s1.size()));
      ExpectGradMatchesFiniteDifferences(Binary(
          k.op,
          {RandomTensor(s0, seed, k.low0, k.high0), RandomTensor(s1, seed + 1, k.low1, k.high1)}));
      seed += 2;
    }
  }
}

TEST(ElementwiseMathGrad, BroadcastableFlagsAreHonoured) {
  GradCheck c = Binary("maximum", {RandomTensor({3, 4}, 1), RandomTensor({1, 4}, 2)});
  c.broadcastable = {{}, {true, false}};
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(ElementwiseMathGrad, Float32AndMixedDtypes) {
  for (const char* op : {"maximum", "minimum", "mod", "arctan2"}) {
    SCOPED_TRACE(op);
    GradCheck c = Binary(op, {AsType(RandomTensor({3, 4}, 7, 1.1, 3), DType::kFloat32),
                              AsType(RandomTensor({4}, 8, 1.1, 3), DType::kFloat32)});
    c.eps = 1e-3;
    c.rtol = 1e-2;
    c.atol = 1e-3;
    ExpectGradMatchesFiniteDifferences(c);
    // float32 with float64: the output (and gradient) is float64, cast back for the float32.
    GradCheck m = Binary(op, {AsType(RandomTensor({3, 4}, 9, 1.1, 3), DType::kFloat32),
                              RandomTensor({4}, 10, 1.1, 3)});
    m.eps = 1e-3;
    m.rtol = 1e-2;
    m.atol = 1e-3;
    ExpectGradMatchesFiniteDifferences(m);
  }
}

// An integer operand gets no gradient; the float one still does.
TEST(ElementwiseMathGrad, IntegerOperands) {
  for (const char* op : {"maximum", "minimum", "mod", "arctan2"}) {
    SCOPED_TRACE(op);
    ExpectGradMatchesFiniteDifferences(
        Binary(op, {AsType(RandomTensor({3, 4}, 11, -20, 20), DType::kInt32),
                    RandomTensor({4}, 12, 1.1, 2.9)}));
    ExpectGradMatchesFiniteDifferences(Binary(
        op, {RandomTensor({3, 4}, 13, -5, 5), AsType(RandomTensor({4}, 14, 1, 3), DType::kInt32)}));
  }
  // A clip of floats between integer bounds.
  GradCheck c =
      Binary("clip", {RandomTensor({3, 4}, 15, -3, 3), AsType(Vector({-1}), DType::kInt32),
                      AsType(Vector({1, 2, 1, 2}), DType::kInt32)});
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(ElementwiseMathGrad, ClipMatchesFiniteDifferences) {
  // x spans both sides of the bounds; lo is a scalar, hi a row broadcast over x's rows.
  const std::vector<std::vector<runtime::Shape>> shapes = {
      {{3, 4}, {}, {4}}, {{}, {}, {}}, {{5}, {5}, {5}}, {{2, 3, 4}, {3, 1}, {}}};
  uint64_t seed = 400;
  for (const auto& s : shapes) {
    SCOPED_TRACE(std::to_string(s[0].size()));
    ExpectGradMatchesFiniteDifferences(
        Binary("clip", {RandomTensor(s[0], seed, -2, 2), RandomTensor(s[1], seed + 1, -1, -0.2),
                        RandomTensor(s[2], seed + 2, 0.2, 1)}));
    seed += 3;
  }
  GradCheck f = Binary("clip", {AsType(RandomTensor({3, 4}, 1, -2, 2), DType::kFloat32),
                                AsType(Vector({-0.5}).View({}), DType::kFloat32),
                                AsType(RandomTensor({4}, 2, 0.2, 1), DType::kFloat32)});
  f.eps = 1e-3;
  f.rtol = 1e-2;
  f.atol = 1e-3;
  ExpectGradMatchesFiniteDifferences(f);
}

TEST(ElementwiseMathGrad, SwitchMatchesFiniteDifferences) {
  // A float condition with zeros (false) and nonzeros: it gets a zero gradient (a small change
  // of it never flips a branch here: the finite difference of the cost is 0 too).
  Tensor cond = RandomTensor({3, 4}, 1);
  for (int64_t i = 0; i < cond.num_elements(); i += 3) cond.data<double>()[i] = 0;
  ExpectGradMatchesFiniteDifferences(
      Binary("switch", {cond, RandomTensor({4}, 2), RandomTensor({}, 3)}));
  ExpectGradMatchesFiniteDifferences(
      Binary("switch", {Vector({0, 1, 0}), RandomTensor({2, 3}, 4), RandomTensor({2, 1}, 5)}));
  ExpectGradMatchesFiniteDifferences(
      Binary("switch", {RandomTensor({}, 6), RandomTensor({}, 7), RandomTensor({}, 8)}));
  GradCheck c;  // a boolean condition computed in the graph
  c.inputs = {RandomTensor({2, 3, 2}, 9), RandomTensor({2, 3, 2}, 10)};
  c.build = [](NodeBuilder& b, const std::vector<Variable*>& x) {
    Variable* pos = b.Apply("gt", {x[0], b.Constant(0, DType::kFloat64)});
    return b.Switch(pos, b.Mul(x[0], x[1]), b.Apply("sin", {x[1]}));
  };
  ExpectGradMatchesFiniteDifferences(c);
  GradCheck f =
      Binary("switch", {Vector({0, 1, 0}), AsType(RandomTensor({2, 3}, 4), DType::kFloat32),
                        AsType(RandomTensor({}, 5), DType::kFloat32)});
  f.wrt = {1, 2};
  f.eps = 1e-3;
  f.rtol = 1e-2;
  f.atol = 1e-3;
  ExpectGradMatchesFiniteDifferences(f);
}

// Second derivatives through the rules with several inputs.
TEST(ElementwiseMathGrad, SecondDerivativesOfBinaryOps) {
  for (const char* op : {"maximum", "minimum", "mod", "arctan2", "clip"}) {
    SCOPED_TRACE(op);
    GradCheck c;
    c.inputs = {RandomTensor({3, 4}, 21, -2, 2), RandomTensor({4}, 22, 1.1, 2.9)};
    // clip's hi above every lo: Theano's rule assumes lo <= hi.
    if (std::string(op) == "clip") c.inputs.push_back(RandomTensor({}, 23, 3, 4));
    const std::string name = op;
    c.build = [name](NodeBuilder& b, const std::vector<Variable*>& x) -> Variable* {
      // A product makes the first derivatives depend on the inputs.
      grad::GradRequest req;
      req.cost = b.Sum(b.Mul(b.Apply(name, x), b.Apply(name, x)), {0, 1});
      req.wrt = x;
      auto r = grad::Grad(b.graph(), req, Label);
      EXPECT_TRUE(r.ok()) << r.status();
      if (!r.ok()) return nullptr;
      Variable* sum = b.Mul(r->gradients[0], r->gradients[0]);
      for (size_t i = 1; i < x.size(); ++i) sum = b.Add(sum, r->gradients[i]);  // broadcasts
      return sum;
    };
    c.rtol = 1e-4;
    c.atol = 1e-6;
    ExpectGradMatchesFiniteDifferences(c);
  }
}

// ---- exact values: ties and zero gradients ----

// The gradients of sum(op(inputs)) with respect to every input, evaluated at `values`.
std::vector<std::vector<double>> GradOfSum(const std::string& op, std::vector<Tensor> values) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<Variable*> in;
  for (const Tensor& v : values)
    in.push_back(g->AddInput(ir::Type::Of(v.dtype(), v.ndim()), "x" + std::to_string(in.size())));
  g->inputs() = in;
  NodeBuilder b(*g);
  Variable* y = b.Apply(op, in);
  std::vector<int64_t> axes;
  for (int d = 0; d < y->type.ndim(); ++d) axes.push_back(d);
  grad::GradRequest req;
  req.cost = b.Sum(y, axes);
  req.wrt = in;
  auto r = grad::Grad(*g, req, Label);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  auto out = Evaluate(std::move(g), r->gradients, values);
  EXPECT_TRUE(out.ok()) << out.status();
  if (!out.ok()) return {};
  std::vector<std::vector<double>> result;
  for (const Tensor& t : *out) {
    std::vector<double> v;
    for (int64_t i = 0; i < t.num_elements(); ++i)
      v.push_back(t.dtype() == DType::kFloat32 ? t.data<float>()[i] : t.data<double>()[i]);
    result.push_back(v);
  }
  return result;
}

using Values = std::vector<std::vector<double>>;

TEST(ElementwiseMathGrad, MaximumAndMinimumGiveTiesToTheFirstInput) {
  EXPECT_EQ(GradOfSum("maximum", {Vector({1, 2, 3}), Vector({1, 0, 5})}),
            (Values{{1, 1, 0}, {0, 0, 1}}));
  EXPECT_EQ(GradOfSum("minimum", {Vector({1, 2, 3}), Vector({1, 0, 5})}),
            (Values{{1, 0, 1}, {0, 1, 0}}));
  // maximum(x, x): the whole gradient goes to the first operand, none to the second.
  EXPECT_EQ(GradOfSum("maximum", {Vector({2, 2}), Vector({2, 2})}), (Values{{1, 1}, {0, 0}}));
}

TEST(ElementwiseMathGrad, ClipBoundsAreInsideTheRange) {
  // x == lo and x == hi pass the gradient to x (lo <= x <= hi); bounds get it only where they
  // clipped x.
  EXPECT_EQ(
      GradOfSum("clip", {Vector({-1, 0, 1, -2, 3}), Vector({-1}).View({}), Vector({1}).View({})}),
      (Values{{1, 1, 1, 0, 0}, {1}, {1}}));
}

TEST(ElementwiseMathGrad, PiecewiseConstantOpsHaveZeroGradients) {
  // Exactly at the jumps too (Theano's rule is zero everywhere).
  const Tensor x = Vector({-1.5, -1, -0.5, 0, 0.5, 1, 2.5});
  const std::vector<double> zeros(7, 0.0);
  for (const char* op :
       {"sgn", "floor", "ceil", "trunc", "round_half_to_even", "round_half_away_from_zero"}) {
    EXPECT_EQ(GradOfSum(op, {x}), (Values{zeros})) << op;
  }
  EXPECT_EQ(GradOfSum("int_div", {x, Vector({0.5})}), (Values{zeros, {0}}));
  // abs at 0: gz * sgn(0) = 0.
  EXPECT_EQ(GradOfSum("abs", {Vector({-2, 0, 3})}), (Values{{-1, 0, 1}}));
}

TEST(ElementwiseMathGrad, ModAndSwitchExactValues) {
  // d(x % y)/dy = -(x // y).
  EXPECT_EQ(GradOfSum("mod", {Vector({7, -7, 7}), Vector({2, 2, -2})}),
            (Values{{1, 1, 1}, {-3, 4, 4}}));
  EXPECT_EQ(GradOfSum("switch", {Vector({1, 0, 2}), Vector({5, 5, 5}), Vector({6, 6, 6})}),
            (Values{{0, 0, 0}, {1, 0, 1}, {0, 1, 0}}));
}

// Integer inputs of the zero-gradient ops get float zeros from the driver.
TEST(ElementwiseMathGrad, IntegerInputsGetFloatZeros) {
  for (const char* op : {"floor", "sqrt", "sin", "gammaln", "psi"}) {
    SCOPED_TRACE(op);
    auto g = GradOfSum(op, {AsType(Vector({1, 2, 3}), DType::kInt32)});
    EXPECT_EQ(g, (Values{{0, 0, 0}}));
  }
}

// ---- psi and tri_gamma values (mpmath, 30 digits) ----

std::vector<double> Apply1(const std::string& op, const std::vector<double>& x, DType dtype) {
  auto g = std::make_unique<ir::Graph>();
  Variable* in = g->AddInput(ir::Type::Of(dtype, 1), "x");
  g->inputs() = {in};
  NodeBuilder b(*g);
  Variable* y = b.Apply(op, {in});
  Tensor t = dtype == DType::kFloat64 ? Vector(x) : AsType(Vector(x), dtype);
  auto out = Evaluate(std::move(g), {y}, {t});
  EXPECT_TRUE(out.ok()) << out.status();
  std::vector<double> v;
  if (!out.ok()) return v;
  for (int64_t i = 0; i < (*out)[0].num_elements(); ++i) {
    v.push_back((*out)[0].dtype() == DType::kFloat32 ? (*out)[0].data<float>()[i]
                                                     : (*out)[0].data<double>()[i]);
  }
  return v;
}

struct Reference {
  double x, psi, trigamma;
};

const Reference kReference[] = {
    {1, -0.5772156649015329, 1.6449340668482264},
    {0.5, -1.9635100260214235, 4.934802200544679},
    {-0.5, 0.03648997397857652, 8.934802200544679},
    {2, 0.42278433509846713, 0.6449340668482264},
    {10, 2.251752589066721, 0.10516633568168575},
    {100, 4.600161852738087, 0.010050166663333571},
    {-2.5, 1.103156640645243, 9.539246644989124},
    {3.7, 1.1671535393615113, 0.3100378576700383},
    {0.001, -1000.5755719318103, 1000001.6425331958},
    {1e-8, -100000000.57721564, 1.0000000000000002e+16},
    {-7.3, 4.33730730551005, 14.951383181433922},
    {1.25, -0.22745353337626542, 1.1973291545071107},
    {6.5, 1.792911330399933, 0.16628453574995825},
    {12.3, 2.468398400301138, 0.0846951702459164},
    {1e6, 13.815510057964191, 1.0000005000001667e-06},
    {-0.999, -999.5745709308084, 1000002.6445361981},
    {5.5, 1.6110931485817512, 0.19934238698962767},
};

TEST(PsiTriGamma, MatchReferenceValues) {
  std::vector<double> x;
  for (const Reference& r : kReference) x.push_back(r.x);
  const auto psi = Apply1("psi", x, DType::kFloat64);
  const auto tri = Apply1("tri_gamma", x, DType::kFloat64);
  ASSERT_EQ(psi.size(), x.size());
  ASSERT_EQ(tri.size(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR(psi[i], kReference[i].psi, 4e-16 * std::abs(kReference[i].psi) + 1e-16)
        << "psi(" << x[i] << ")";
    EXPECT_NEAR(tri[i], kReference[i].trigamma, 4e-16 * std::abs(kReference[i].trigamma))
        << "tri_gamma(" << x[i] << ")";
  }
  // The positive root of psi (float64 nearest 1.46163214496836234...): psi there is -9.2e-17.
  EXPECT_NEAR(Apply1("psi", {1.4616321449683622}, DType::kFloat64)[0], -9.241265521729427e-17,
              1e-17);
  const auto f32 = Apply1("psi", {1, 0.5, -0.5, 3.7}, DType::kFloat32);
  EXPECT_FLOAT_EQ(f32[0], -0.5772156649015329f);
  EXPECT_FLOAT_EQ(f32[1], -1.9635100260214235f);
  EXPECT_FLOAT_EQ(f32[3], 1.1671535393615113f);
  EXPECT_FLOAT_EQ(Apply1("tri_gamma", {1}, DType::kFloat32)[0], 1.6449340668482264f);
  // Ints become floats.
  EXPECT_FLOAT_EQ(Apply1("psi", {2}, DType::kInt32)[0], 0.42278433509846713);
}

TEST(PsiTriGamma, PolesAndSpecialValues) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // As SciPy: psi(+0) = -inf, psi(-0) = +inf, NaN at negative integers and -inf.
  const auto psi = Apply1("psi", {0.0, -0.0, -1, -3, inf, -inf, nan}, DType::kFloat64);
  EXPECT_EQ(psi[0], -inf);
  EXPECT_EQ(psi[1], inf);
  EXPECT_TRUE(std::isnan(psi[2]));
  EXPECT_TRUE(std::isnan(psi[3]));
  EXPECT_EQ(psi[4], inf);
  EXPECT_TRUE(std::isnan(psi[5]));
  EXPECT_TRUE(std::isnan(psi[6]));
  // tri_gamma (SciPy's zeta(2, x)): +inf at the poles, 0 at +inf.
  const auto tri = Apply1("tri_gamma", {0.0, -1, -4, inf, nan}, DType::kFloat64);
  EXPECT_EQ(tri[0], inf);
  EXPECT_EQ(tri[1], inf);
  EXPECT_EQ(tri[2], inf);
  EXPECT_EQ(tri[3], 0);
  EXPECT_TRUE(std::isnan(tri[4]));
}

TEST(PsiTriGamma, RecurrencesHold) {
  // psi(x + 1) = psi(x) + 1/x and tri_gamma(x + 1) = tri_gamma(x) - 1/x^2, over a range that
  // crosses every branch (reflection, shift to [1, 2], the asymptotic series). Odd multiples
  // of 1/16: never a pole, and x + 1 is exact.
  std::vector<double> x, x1;
  for (double v = -9.8125; v < 30; v += 0.375) {
    x.push_back(v);
    x1.push_back(v + 1);
  }
  const auto p = Apply1("psi", x, DType::kFloat64), p1 = Apply1("psi", x1, DType::kFloat64);
  const auto t = Apply1("tri_gamma", x, DType::kFloat64);
  const auto t1 = Apply1("tri_gamma", x1, DType::kFloat64);
  for (size_t i = 0; i < x.size(); ++i) {
    const double scale = std::abs(p[i]) + std::abs(1 / x[i]);
    EXPECT_NEAR(p1[i], p[i] + 1 / x[i], 1e-14 * scale) << x[i];
    EXPECT_NEAR(t1[i], t[i] - 1 / (x[i] * x[i]), 1e-14 * (t[i] + 1 / (x[i] * x[i]))) << x[i];
  }
}

// gammaln' = psi and psi' = tri_gamma, checked by central differences of the kernels.
TEST(PsiTriGamma, AreDerivativesOfTheirPredecessors) {
  const std::vector<double> x = {0.3, 1.2, 2.5, 7.7, 15.1, -0.4, -3.6};
  const double h = 1e-6;
  std::vector<double> xp, xm;
  for (double v : x) {
    xp.push_back(v + h);
    xm.push_back(v - h);
  }
  const auto lp = Apply1("gammaln", xp, DType::kFloat64),
             lm = Apply1("gammaln", xm, DType::kFloat64);
  const auto pp = Apply1("psi", xp, DType::kFloat64), pm = Apply1("psi", xm, DType::kFloat64);
  const auto psi = Apply1("psi", x, DType::kFloat64), tri = Apply1("tri_gamma", x, DType::kFloat64);
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_NEAR((lp[i] - lm[i]) / (2 * h), psi[i], 1e-6 * (1 + std::abs(psi[i]))) << x[i];
    EXPECT_NEAR((pp[i] - pm[i]) / (2 * h), tri[i], 1e-6 * (1 + std::abs(tri[i]))) << x[i];
  }
}

}  // namespace
}  // namespace tensord::ops
