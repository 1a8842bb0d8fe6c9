// Creation, shape, join, sort, contraction and indexing ops of the C++ client through the real
// server; see client_ops_test.cc.
#include <gtest/gtest.h>

#include <cmath>

#include "tests/integration/client_ops_fixture.h"

namespace tensord::client {
namespace {

TEST_F(ClientOpsTest, CreationShapeJoinAndSort) {
  GraphBuilder g;
  Var m = g.Matrix("m", kFloat32), v = g.Vector("v", kFloat32), n = g.Scalar("n", kInt64);
  std::vector<Var> outs = {Shape(m),
                           ShapeI(m, 1),
                           MakeVector({ShapeI(m, 0), n}),
                           Arange(g, 1, 10, 3),
                           Arange(g.Literal(0.5), g.Literal(2), g.Literal(0.5)),
                           Arange(n, g.Literal(0), g.Literal(-2)),
                           Eye(g, 2, 3, 1, kInt32),
                           Tile(v, {2, 2}),
                           Repeat(v, 2),
                           Repeat(m, IndexArray(g, {1, 0}), 0),
                           Flatten(m),
                           Join(1, {m, m}),
                           Concatenate({v, v}),
                           Stack({v, v}, 1),
                           Stack({n, g.Literal(7)}),
                           Sort(m),
                           Argsort(m, 0),
                           Sort(m, std::nullopt)};
  // m = [[3, 1, 2], [0, 5, 4]], v = [1, 2], n = 5
  auto out = Eval(g, {m, v, n}, outs,
                  {*HostTensor::Matrix<float>({{3, 1, 2}, {0, 5, 4}}),
                   HostTensor::Vector<float>({1, 2}), HostTensor::Scalar<int64_t>(5)});
  ASSERT_EQ(out.size(), outs.size());
  ExpectNear(out[0], {2, 3});
  ExpectNear(out[1], {3}, {});
  ExpectNear(out[2], {2, 5});
  ExpectNear(out[3], {1, 4, 7});
  ExpectNear(out[4], {0.5, 1, 1.5});
  ExpectNear(out[5], {5, 3, 1});
  ExpectNear(out[6], {0, 1, 0, 0, 0, 1}, {2, 3});
  ExpectNear(out[7], {1, 2, 1, 2, 1, 2, 1, 2}, {2, 4});
  ExpectNear(out[8], {1, 1, 2, 2});
  ExpectNear(out[9], {3, 1, 2}, {1, 3});
  ExpectNear(out[10], {3, 1, 2, 0, 5, 4}, {6});
  ExpectNear(out[11], {3, 1, 2, 3, 1, 2, 0, 5, 4, 0, 5, 4}, {2, 6});
  ExpectNear(out[12], {1, 2, 1, 2});
  ExpectNear(out[13], {1, 1, 2, 2}, {2, 2});
  ExpectNear(out[14], {5, 7});
  ExpectNear(out[15], {1, 2, 3, 0, 4, 5}, {2, 3});
  ExpectNear(out[16], {1, 0, 0, 0, 1, 1}, {2, 3});
  ExpectNear(out[17], {0, 1, 2, 3, 4, 5}, {6});
}

TEST_F(ClientOpsTest, Contractions) {
  GraphBuilder g;
  Var a = g.Tensor3("a", kFloat64), b = g.Tensor3("b", kFloat64), m = g.Matrix("m", kFloat64);
  Var s = g.Scalar("s", kFloat64);
  std::vector<Var> outs = {Dot(a, m),
                           Dot(s, m),
                           TensorDot(a, b, {1, 2}, {1, 2}),
                           TensorDot(m, m.T(), 1),
                           BatchedDot(a, SwapAxes(b, 1, 2)),
                           BatchedTensorDot(a, b, {2}, {2}),
                           Outer(Flatten(m), g.Literal(2.0) * Flatten(m))};
  // a[p][q][r] = p*6 + q*3 + r (2x2x3), b[p][q][r] = 1 + p - q + r (2x2x3), m = 3x2.
  auto av = [](int p, int q, int r) { return p * 6.0 + q * 3 + r; };
  auto bv = [](int p, int q, int r) { return 1.0 + p - q + r; };
  auto mv = [](int i, int j) { return i * 2.0 - j; };
  Doubles ad, bd, md;
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 2; ++q)
      for (int r = 0; r < 3; ++r) ad.push_back(av(p, q, r)), bd.push_back(bv(p, q, r));
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 2; ++j) md.push_back(mv(i, j));
  auto out = Eval(g, {a, b, m, s}, outs,
                  {*HostTensor::FromVector<double>(ad, {2, 2, 3}),
                   *HostTensor::FromVector<double>(bd, {2, 2, 3}),
                   *HostTensor::FromVector<double>(md, {3, 2}), HostTensor::Scalar<double>(2)});
  ASSERT_EQ(out.size(), outs.size());
  Doubles dot, sm, td, mm, btd, outer;
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 2; ++q)
      for (int j = 0; j < 2; ++j) {
        double acc = 0;
        for (int r = 0; r < 3; ++r) acc += av(p, q, r) * mv(r, j);
        dot.push_back(acc);
      }
  for (double v : md) sm.push_back(2 * v);
  for (int p = 0; p < 2; ++p)
    for (int p2 = 0; p2 < 2; ++p2) {
      double acc = 0;
      for (int q = 0; q < 2; ++q)
        for (int r = 0; r < 3; ++r) acc += av(p, q, r) * bv(p2, q, r);
      td.push_back(acc);
    }
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 3; ++k) mm.push_back(mv(i, 0) * mv(k, 0) + mv(i, 1) * mv(k, 1));
  for (int p = 0; p < 2; ++p)
    for (int q = 0; q < 2; ++q)
      for (int q2 = 0; q2 < 2; ++q2) {
        double acc = 0;
        for (int r = 0; r < 3; ++r) acc += av(p, q, r) * bv(p, q2, r);
        btd.push_back(acc);
      }
  for (double x : md)
    for (double y : md) outer.push_back(x * 2 * y);
  ExpectNear(out[0], dot, {2, 2, 2});
  ExpectNear(out[1], sm, {3, 2});
  ExpectNear(out[2], td, {2, 2});
  ExpectNear(out[3], mm, {3, 3});
  // batched_dot(a, b with its last two axes swapped) is batched_tensordot over a's and b's r.
  ExpectNear(out[4], btd, {2, 2, 2});
  ExpectNear(out[5], btd, {2, 2, 2});
  ExpectNear(out[6], outer, {6, 6});
}

TEST_F(ClientOpsTest, Indexing) {
  GraphBuilder g;
  Var x = g.Matrix("x", kFloat64), i = g.Scalar("i", kInt64), y = g.Vector("y", kFloat64);
  Var rows = IndexArray(g, {2, 0, 2});
  std::vector<Var> outs = {
      GetItem(x, {1}),                                            // x[1]
      GetItem(x, {Slice(Var(), Var(), -1), Slice(1)}),            // x[::-1, 1:]
      GetItem(x, {Slice(i), Slice(Var(), Var(), -2)}),            // x[i:, ::-2]
      GetItem(x, {Slice(-1, Var(), -1), i}),                      // x[-1::-1, i]
      GetItem(x, {NewAxis(), Ellipsis(), 2}),                     // x[None, ..., 2]
      GetItem(x, {rows}),                                         // advanced_subtensor1
      GetItem(x, {rows, IndexArray(g, {1, 0, 0})}),               // x[[2, 0, 2], [1, 0, 0]]
      GetItem(x, {Slice(), IndexArray(g, {2, 2})}),               // x[:, [2, 2]]
      GetItem(x, {Gt(x, 4.0)}),                                   // x[x > 4]
      SetSubtensor(GetItem(x, {Slice(Var(), Var(), -1), 0}), y),  // z[::-1, 0] = y
      IncSubtensor(GetItem(x, {i, Slice(1)}), 10.0),              // z[i, 1:] += 10
      IncSubtensor(GetItem(x, {rows}), GetItem(x, {0})),          // numpy.add.at on rows
      SetSubtensor(GetItem(x, {rows, IndexArray(g, {0, 1, 2})}), y),
      Take(x, IndexArray(g, {5, 0})),
      Take(x, IndexArray(g, {1, 1}), 1),
      Subtensor(x, {-1, -1}),
      AdvancedSubtensor(x, {0, IndexArray(g, {2, 1})}),
  };
  // x = [[0, 1, 2], [3, 4, 5], [6, 7, 8]], i = 1, y = [10, 20, 30]
  auto out = Eval(g, {x, i, y}, outs,
                  {*HostTensor::Matrix<double>({{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}),
                   HostTensor::Scalar<int64_t>(1), HostTensor::Vector<double>({10, 20, 30})});
  ASSERT_EQ(out.size(), outs.size());
  ExpectNear(out[0], {3, 4, 5}, {3});
  ExpectNear(out[1], {7, 8, 4, 5, 1, 2}, {3, 2});
  ExpectNear(out[2], {5, 3, 8, 6}, {2, 2});
  ExpectNear(out[3], {7, 4, 1}, {3});
  ExpectNear(out[4], {2, 5, 8}, {1, 3});
  ExpectNear(out[5], {6, 7, 8, 0, 1, 2, 6, 7, 8}, {3, 3});
  ExpectNear(out[6], {7, 0, 6}, {3});
  ExpectNear(out[7], {2, 2, 5, 5, 8, 8}, {3, 2});
  ExpectNear(out[8], {5, 6, 7, 8}, {4});
  ExpectNear(out[9], {30, 1, 2, 20, 4, 5, 10, 7, 8}, {3, 3});
  ExpectNear(out[10], {0, 1, 2, 3, 14, 15, 6, 7, 8}, {3, 3});
  ExpectNear(out[11], {0, 2, 4, 3, 4, 5, 6, 9, 12}, {3, 3});
  ExpectNear(out[12], {0, 20, 2, 3, 4, 5, 10, 7, 30}, {3, 3});  // z[[2, 0, 2], [0, 1, 2]] = y
  ExpectNear(out[13], {5, 0}, {2});
  ExpectNear(out[14], {1, 1, 4, 4, 7, 7}, {3, 2});
  ExpectNear(out[15], {8}, {});
  ExpectNear(out[16], {2, 1}, {2});
}

}  // namespace
}  // namespace tensord::client
