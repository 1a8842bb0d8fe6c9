// The C++ client's convolution and pooling helpers (ops_nnet.h) against a live server: values
// against loops written here, the gradient through Session::Grad against the explicit
// gradient op and the loop, and the builder's refusals.
#include <vector>

#include "tests/integration/client_ops_fixture.h"

namespace tensord::client {
namespace {

using Rows = std::vector<double>;

// Cross-correlation of an (h, w) image by a (kh, kw) filter, valid borders.
Rows Correlate(const Rows& x, int h, int w, const Rows& k, int kh, int kw) {
  Rows out;
  for (int i = 0; i + kh <= h; ++i)
    for (int j = 0; j + kw <= w; ++j) {
      double s = 0;
      for (int a = 0; a < kh; ++a)
        for (int b = 0; b < kw; ++b) s += x[(i + a) * w + j + b] * k[a * kw + b];
      out.push_back(s);
    }
  return out;
}

TEST_F(ClientOpsTest, Conv2dCorrelatesOrConvolves) {
  GraphBuilder g(kFloat64);
  Var x = g.Input("x", kFloat64, {true, true, false, false});
  Var k = g.Input("k", kFloat64, {true, true, false, false});
  ConvOptions correlate;
  correlate.filter_flip = false;
  Var y = Conv2d(x, k, correlate), z = Conv2d(x, k);  // z flips the filter
  Rows xs(12), ks = {1, 2, 3, 4};
  for (int i = 0; i < 12; ++i) xs[i] = i * 0.5 - 1;
  auto out = Eval(g, {x, k}, {y, z},
                  {*HostTensor::FromVector<double>(xs, {1, 1, 3, 4}),
                   *HostTensor::FromVector<double>(ks, {1, 1, 2, 2})});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], Correlate(xs, 3, 4, ks, 2, 2), {1, 1, 2, 3});
  ExpectNear(out[1], Correlate(xs, 3, 4, {4, 3, 2, 1}, 2, 2), {1, 1, 2, 3});
}

TEST_F(ClientOpsTest, Conv2dGradientIsTheGradInputsOp) {
  GraphBuilder g(kFloat64);
  Var x = g.Input("x", kFloat64, {true, true, false, false});
  Var k = g.Input("k", kFloat64, {true, true, false, false});
  ConvOptions correlate;
  correlate.filter_flip = false;
  Var y = Conv2d(x, k, correlate);
  auto grads = session_->Grad(Sum(y), {x});
  ASSERT_TRUE(grads.ok()) << grads.status();
  Var explicit_grad = ConvGradInputs(k, Fill(y, g.Literal(1.0)),
                                     MakeVector({ShapeI(x, 2), ShapeI(x, 3)}), correlate);
  const Rows ks = {1, 2, 3, 4};
  auto out = Eval(g, {x, k}, {(*grads)[0], explicit_grad},
                  {*HostTensor::FromVector<double>(Rows(9, 1.0), {1, 1, 3, 3}),
                   *HostTensor::FromVector<double>(ks, {1, 1, 2, 2})});
  ASSERT_EQ(out.size(), 2u);
  // d sum(y) / dx[i, j]: the taps of every window that covers (i, j).
  const Rows want = {1, 3, 2, 4, 10, 6, 3, 7, 4};
  ExpectNear(out[0], want, {1, 1, 3, 3});
  ExpectNear(out[1], want, {1, 1, 3, 3});
}

TEST_F(ClientOpsTest, PoolModes) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x");
  PoolOptions average;
  average.mode = "average_exc_pad";
  average.ignore_border = false;
  Rows xs(16);
  for (int i = 0; i < 16; ++i) xs[i] = i * i;
  auto out = Eval(g, {x}, {Pool(x, {2, 2}), Pool(x, {3, 3}, average)},
                  {*HostTensor::FromVector<double>(xs, {4, 4})});
  ASSERT_EQ(out.size(), 2u);
  ExpectNear(out[0], {25, 49, 169, 225}, {2, 2});
  // Windows [0, 3) and [3, 4) on each axis; the partial ones average their elements only.
  ExpectNear(out[1], {327.0 / 9, 179.0 / 3, 509.0 / 3, 225}, {2, 2});
}

TEST_F(ClientOpsTest, NnetHelpersRefuseBadArguments) {
  GraphBuilder g(kFloat64);
  Var x = g.Matrix("x"), k = g.Matrix("k");
  EXPECT_FALSE(Conv2d(x, k).valid());
  EXPECT_NE(g.status().message().find("conv: needs operands of rank 4, got 2 and 2"),
            std::string::npos)
      << g.status();
  GraphBuilder v(kFloat64);
  Var dy = v.Vector("dy"), w = v.Vector("w");
  EXPECT_FALSE(ConvGradInputs(w, dy, MakeVector({ShapeI(dy, 0)})).valid());
  EXPECT_NE(v.status().message().find("needs operands of rank 3 to 5"), std::string::npos)
      << v.status();
  GraphBuilder h(kFloat64);
  Var m = h.Matrix("m");
  PoolOptions bad;
  bad.mode = "median";
  EXPECT_FALSE(Pool(m, {2, 2}, bad).valid());
  EXPECT_NE(h.status().message().find("mode must be max"), std::string::npos) << h.status();
}

}  // namespace
}  // namespace tensord::client
