// Every op family of the C++ client through the real server (elementwise math, comparisons and
// logic, reductions and scans here; shapes, contractions and indexing in
// client_ops_index_test.cc). A successful Compile proves that the client's type inference agrees
// with the server's (the server refuses declared types that differ); the values are checked
// against expectations written from the NumPy definitions.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/integration/client_ops_fixture.h"

namespace tensord::client {
namespace {

// The live server has host contexts only: transfers are the identity there; an unknown context
// is refused by name before compiling.
TEST_F(ClientOpsTest, TransferPinsValuesToContexts) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat32);
  auto out = Eval(g, {x}, {Transfer(Exp(Transfer(x, "cpu"))), Transfer(x * 2.0f)},
                  {HostTensor::Vector<float>({0.0f, 1.0f})});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], {1.0, std::exp(1.0)}, {2}, 1e-6);  // float32
  ExpectNear(out[1], {0.0, 2.0});
  GraphBuilder bad;
  Var y = bad.Vector("y", kFloat32);
  auto f = session_->Compile(bad, {y}, {Transfer(y, "dev9")});
  EXPECT_EQ(f.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(f.status().message().find("transfer to unknown context 'dev9' (this server has: cpu"),
            std::string::npos)
      << f.status();
}

TEST_F(ClientOpsTest, ElementwiseMath) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat64), a = g.Vector("a", kInt32), b = g.Vector("b", kInt32);
  const Doubles xs = {-2.5, -0.5, 0.5, 1.5, 2.5};
  std::vector<Var> outs = {IntDiv(a, b),
                           a % b,
                           Abs(x),
                           Sgn(x),
                           Sqr(a),
                           Sqrt(Abs(x)),
                           Maximum(x, 0.0),
                           Minimum(x, 0.0),
                           Clip(x, -1.0, 1.0),
                           RoundHalfToEven(x),
                           RoundHalfAwayFromZero(x),
                           Floor(x),
                           Ceil(x),
                           Trunc(x),
                           Arctan2(x, 1.0)};
  struct Unary {
    Var (*op)(Var);
    double (*ref)(double);
  };
  const std::vector<Unary> unary = {
      {Expm1, [](double v) { return std::expm1(v); }},
      {Log1p, [](double v) { return std::log1p(v + 3); }},
      {Log2, [](double v) { return std::log2(v + 3); }},
      {Log10, [](double v) { return std::log10(v + 3); }},
      {Sin, [](double v) { return std::sin(v); }},
      {Cos, [](double v) { return std::cos(v); }},
      {Tan, [](double v) { return std::tan(v); }},
      {Arcsin, [](double v) { return std::asin(v / 3); }},
      {Arccos, [](double v) { return std::acos(v / 3); }},
      {Arctan, [](double v) { return std::atan(v); }},
      {Sinh, [](double v) { return std::sinh(v); }},
      {Cosh, [](double v) { return std::cosh(v); }},
      {Tanh, [](double v) { return std::tanh(v); }},
      {Erf, [](double v) { return std::erf(v); }},
      {Erfc, [](double v) { return std::erfc(v); }},
      {Gamma, [](double v) { return std::tgamma(v); }},
      {Gammaln, [](double v) { return std::lgamma(v); }},
      {Sigmoid, [](double v) { return 1 / (1 + std::exp(-v)); }},
      {Softplus, [](double v) { return std::log1p(std::exp(v)); }},
  };
  for (size_t k = 0; k < unary.size(); ++k) {
    // log* get x + 3 > 0 and arcsin/arccos x / 3 in [-1, 1], as the references do.
    Var in = k >= 1 && k <= 3 ? x + 3.0 : (k == 7 || k == 8) ? x / 3.0 : x;
    outs.push_back(unary[k].op(in));
  }
  auto out = Eval(g, {x, a, b}, outs,
                  {HostTensor::Vector<double>(xs), HostTensor::Vector<int32_t>({7, -7, 7, -7}),
                   HostTensor::Vector<int32_t>({2, 2, -2, -2})});
  ASSERT_EQ(out.size(), outs.size());
  ExpectNear(out[0], {3, -4, -4, 3});  // floor division
  ExpectNear(out[1], {1, 1, -1, -1});  // the sign of b
  ExpectNear(out[2], {2.5, 0.5, 0.5, 1.5, 2.5});
  ExpectNear(out[3], {-1, -1, 1, 1, 1});
  ExpectNear(out[4], {49, 49, 49, 49});
  ExpectNear(out[5],
             {std::sqrt(2.5), std::sqrt(0.5), std::sqrt(0.5), std::sqrt(1.5), std::sqrt(2.5)});
  ExpectNear(out[6], {0, 0, 0.5, 1.5, 2.5});
  ExpectNear(out[7], {-2.5, -0.5, 0, 0, 0});
  ExpectNear(out[8], {-1, -0.5, 0.5, 1, 1});
  ExpectNear(out[9], {-2, -0.0, 0, 2, 2});
  ExpectNear(out[10], {-3, -1, 1, 2, 3});
  ExpectNear(out[11], {-3, -1, 0, 1, 2});
  ExpectNear(out[12], {-2, -0.0, 1, 2, 3});
  ExpectNear(out[13], {-2, -0.0, 0, 1, 2});
  Doubles at;
  for (double v : xs) at.push_back(std::atan2(v, 1.0));
  ExpectNear(out[14], at);
  for (size_t k = 0; k < unary.size(); ++k) {
    Doubles expected;
    for (double v : xs) expected.push_back(unary[k].ref(v));
    SCOPED_TRACE(k);
    ExpectNear(out[15 + k], expected, {5}, 1e-12);
  }
}

TEST_F(ClientOpsTest, ComparisonsLogicSwitchAndIfElse) {
  GraphBuilder g;
  Var x = g.Vector("x", kFloat64), y = g.Vector("y", kFloat64);
  Var i = g.Vector("i", kInt8), c = g.Scalar("c", kInt8);
  Var nan_inf = g.Constant(HostTensor::Vector<double>({NAN, INFINITY, 1.0, -INFINITY}));
  auto [picked, other] = [&] {
    auto v = IfElse(c, {x, i}, {y, ~i});
    return std::pair{v[0], v[1]};
  }();
  std::vector<Var> outs = {Gt(x, y),
                           Lt(x, y),
                           Ge(x, y),
                           Le(x, y),
                           Eq(x, y),
                           Neq(x, y),
                           IsNan(nan_inf),
                           IsInf(nan_inf),
                           IsClose(x, y, 0.0, 0.15),
                           AllClose(x, x),
                           i & 6,
                           i | 6,
                           i ^ 6,
                           ~i,
                           Switch(Gt(x, y), x, i),
                           picked,
                           other,
                           ~Gt(x, y) & Lt(x, 2.5)};
  auto run = [&](int8_t cond) {
    return Eval(g, {x, y, i, c}, outs,
                {HostTensor::Vector<double>({1, 2, 3}), HostTensor::Vector<double>({1.1, 2, 2}),
                 HostTensor::Vector<int8_t>({3, 5, -1}), HostTensor::Scalar<int8_t>(cond)});
  };
  auto out = run(1);
  ASSERT_EQ(out.size(), outs.size());
  ExpectNear(out[0], {0, 0, 1});
  ExpectNear(out[1], {1, 0, 0});
  ExpectNear(out[2], {0, 1, 1});
  ExpectNear(out[3], {1, 1, 0});
  ExpectNear(out[4], {0, 1, 0});
  ExpectNear(out[5], {1, 0, 1});
  ExpectNear(out[6], {1, 0, 0, 0});
  ExpectNear(out[7], {0, 1, 0, 1});
  ExpectNear(out[8], {1, 1, 0});  // |1 - 1.1| <= 0.15; |3 - 2| is not
  ExpectNear(out[9], {1}, {});
  ExpectNear(out[10], {3 & 6, 5 & 6, -1 & 6});
  ExpectNear(out[11], {3 | 6, 5 | 6, -1 | 6});
  ExpectNear(out[12], {3 ^ 6, 5 ^ 6, -1 ^ 6});
  ExpectNear(out[13], {~3, ~5, ~-1});
  ExpectNear(out[14], {3, 5, 3});  // x where x > y, else i
  ExpectNear(out[15], {1, 2, 3});
  ExpectNear(out[16], {3, 5, -1});
  ExpectNear(out[17], {1, 1, 0});
  auto other_branch = run(0);
  ASSERT_EQ(other_branch.size(), outs.size());
  ExpectNear(other_branch[15], {1.1, 2, 2});
  ExpectNear(other_branch[16], {~3, ~5, ~-1});
}

TEST_F(ClientOpsTest, ReductionsAndScans) {
  GraphBuilder g;
  Var m = g.Matrix("m", kFloat64), k = g.Matrix("k", kInt16);
  auto [mx, am] = MaxAndArgmax(m, {1});
  std::vector<Var> outs = {Prod(k),
                           Prod(k, {0}),
                           Min(m, {0}),
                           All(k, {1}),
                           Any(k, {1}),
                           Argmax(m),
                           Argmin(m, {0}),
                           mx,
                           am,
                           Mean(m, {1}),
                           Mean(k),
                           Variance(m, {1}),
                           Std(m, {1}, 1),
                           CumSum(k),
                           CumProd(k, 1),
                           Ptp(m, {0}),
                           KeepDims(Sum(m, {1}), m, {1})};
  // m = [[1, 4, 2], [3, 0, 8]], k = [[1, 2, 3], [0, 5, -1]]
  auto out = Eval(g, {m, k}, outs,
                  {*HostTensor::Matrix<double>({{1, 4, 2}, {3, 0, 8}}),
                   *HostTensor::Matrix<int16_t>({{1, 2, 3}, {0, 5, -1}})});
  ASSERT_EQ(out.size(), outs.size());
  ExpectNear(out[0], {0}, {});
  ExpectNear(out[1], {0, 10, -3}, {3});
  ExpectNear(out[2], {1, 0, 2});
  ExpectNear(out[3], {1, 0});
  ExpectNear(out[4], {1, 1});
  ExpectNear(out[5], {5}, {});  // flat index of 8
  ExpectNear(out[6], {0, 1, 0});
  ExpectNear(out[7], {4, 8});
  ExpectNear(out[8], {1, 2});
  ExpectNear(out[9], {7.0 / 3, 11.0 / 3});
  ExpectNear(out[10], {10.0 / 6}, {});
  // var of [1, 4, 2]: mean 7/3, squared deviations 16/9 + 25/9 + 1/9 = 42/9.
  ExpectNear(out[11], {42.0 / 27, (4.0 / 9 + 121.0 / 9 + 169.0 / 9) / 3});
  ExpectNear(out[12], {std::sqrt(42.0 / 18), std::sqrt((4.0 + 121 + 169) / 9 / 2)});
  ExpectNear(out[13], {1, 3, 6, 6, 11, 10}, {6});
  ExpectNear(out[14], {1, 2, 6, 0, 0, 0}, {2, 3});
  ExpectNear(out[15], {2, 4, 6});
  ExpectNear(out[16], {7, 11}, {2, 1});
}

}  // namespace
}  // namespace tensord::client
