// Finite-difference checks of the grad rules in linalg.cc, over every rank combination the
// contractions accept.
#include <gtest/gtest.h>

#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"

namespace tensord::ops {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::RandomTensor;
using runtime::Shape;
using runtime::Tensor;
using Axes = std::vector<int64_t>;

Tensor ToFloat32(const Tensor& t) {
  Tensor out(DType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.num_elements(); ++i) out.data<float>()[i] = t.data<double>()[i];
  return out;
}

ir::Attrs AxesAttrs(const Axes& a, const Axes& b) { return {{"axes_a", a}, {"axes_b", b}}; }

void Check(const std::string& op, Tensor a, Tensor b, ir::Attrs attrs = {}, double eps = 1e-6,
           double rtol = 1e-5) {
  SCOPED_TRACE(op + "(" + runtime::ShapeString(a.shape()) + ", " + runtime::ShapeString(b.shape()) +
               ")");
  GradCheck c;
  c.inputs = {std::move(a), std::move(b)};
  c.eps = eps;
  c.rtol = rtol;
  if (c.inputs[0].dtype() == DType::kFloat32) c.atol = 1e-4;
  c.build = [op, attrs](NodeBuilder& g, const std::vector<ir::Variable*>& in) {
    return g.Apply(op, {in[0], in[1]}, attrs);
  };
  ExpectGradMatchesFiniteDifferences(c);
}

// A shape of `ndim` dims whose last is `last` and second-to-last `second_last` (when present);
// the others are small distinct sizes so a transposed gradient would not fit.
Shape DotShape(int ndim, int64_t last, int64_t second_last) {
  Shape s;
  for (int d = 0; d < ndim; ++d) s.push_back(2 + d);
  if (ndim >= 1) s[ndim - 1] = last;
  if (ndim >= 2) s[ndim - 2] = second_last;
  return s;
}

TEST(LinalgGrad, DotMatchesFiniteDifferencesForEveryRankPair) {
  uint64_t seed = 1;
  for (int na = 0; na <= 3; ++na) {
    for (int nb = 0; nb <= 3; ++nb) {
      // numpy.dot pairs a's last axis (length 4) with b's second-to-last (its only for a vector).
      Shape sa = DotShape(na, 4, 3);
      Shape sb = nb == 1 ? Shape{4} : DotShape(nb, 5, 4);
      if (na == 0 || nb == 0) sb = DotShape(nb, 5, 2);  // a 0-d operand multiplies
      Check("dot", RandomTensor(sa, seed), RandomTensor(sb, seed + 100));
      ++seed;
    }
  }
  Check("dot", RandomTensor({2, 3, 4}, 7), RandomTensor({2, 3, 4, 2}, 8));
  Check("dot", ToFloat32(RandomTensor({3, 4}, 9)), ToFloat32(RandomTensor({4, 2}, 10)), {}, 1e-3,
        1e-2);
}

TEST(LinalgGrad, TensordotMatchesFiniteDifferences) {
  Check("tensordot", RandomTensor({3, 4}, 1), RandomTensor({4, 5}, 2), AxesAttrs({1}, {0}));
  Check("tensordot", RandomTensor({3, 4}, 3), RandomTensor({5, 3}, 4), AxesAttrs({0}, {1}));
  // Pairs given out of order, negative axes, a free axis between summed ones.
  Check("tensordot", RandomTensor({2, 3, 4}, 5), RandomTensor({4, 5, 2}, 6),
        AxesAttrs({2, 0}, {0, 2}));
  Check("tensordot", RandomTensor({2, 3, 4}, 7), RandomTensor({3, 5, 2}, 8),
        AxesAttrs({-2, 0}, {0, -1}));
  Check("tensordot", RandomTensor({2, 3, 4}, 9), RandomTensor({4, 3, 2}, 10),
        AxesAttrs({0, 1, 2}, {2, 1, 0}));
  // Nothing summed: an outer product; 0-d operands.
  Check("tensordot", RandomTensor({3}, 11), RandomTensor({2, 2}, 12), AxesAttrs({}, {}));
  Check("tensordot", RandomTensor({}, 13), RandomTensor({2, 3}, 14), AxesAttrs({}, {}));
  Check("tensordot", RandomTensor({}, 15), RandomTensor({}, 16), AxesAttrs({}, {}));
  Check("tensordot", ToFloat32(RandomTensor({2, 3, 4}, 17)), ToFloat32(RandomTensor({4, 3}, 18)),
        AxesAttrs({1, 2}, {1, 0}), 1e-3, 1e-2);
}

TEST(LinalgGrad, BatchedDotMatchesFiniteDifferences) {
  // batched_dot sums a's last axis with b's max(1, ndim - 2).
  Check("batched_dot", RandomTensor({3, 4}, 1), RandomTensor({3, 4}, 2));
  Check("batched_dot", RandomTensor({3, 4}, 3), RandomTensor({3, 4, 2}, 4));
  Check("batched_dot", RandomTensor({3, 2, 4}, 5), RandomTensor({3, 4}, 6));
  Check("batched_dot", RandomTensor({3, 2, 4}, 7), RandomTensor({3, 4, 5}, 8));
  Check("batched_dot", RandomTensor({2, 2, 3, 4}, 9), RandomTensor({2, 4, 2}, 10));
  Check("batched_dot", RandomTensor({2, 3, 4}, 11), RandomTensor({2, 2, 4, 3}, 12));
  Check("batched_dot", ToFloat32(RandomTensor({3, 2, 4}, 13)),
        ToFloat32(RandomTensor({3, 4, 2}, 14)), {}, 1e-3, 1e-2);
}

TEST(LinalgGrad, BatchedTensordotMatchesFiniteDifferences) {
  Check("batched_tensordot", RandomTensor({3, 4}, 1), RandomTensor({3, 4}, 2), AxesAttrs({1}, {1}));
  Check("batched_tensordot", RandomTensor({3, 2, 4}, 3), RandomTensor({3, 4, 5}, 4),
        AxesAttrs({2}, {1}));
  Check("batched_tensordot", RandomTensor({2, 3, 4, 5}, 5), RandomTensor({2, 5, 3, 2}, 6),
        AxesAttrs({3, 1}, {1, -2}));
  Check("batched_tensordot", RandomTensor({2, 3, 4}, 7), RandomTensor({2, 4, 3}, 8),
        AxesAttrs({1, 2}, {2, 1}));
  // Nothing summed: a per-item outer product, with vector and matrix items.
  Check("batched_tensordot", RandomTensor({2, 3}, 9), RandomTensor({2, 4}, 10), AxesAttrs({}, {}));
  Check("batched_tensordot", RandomTensor({2, 3, 2}, 11), RandomTensor({2, 4}, 12),
        AxesAttrs({}, {}));
}

TEST(LinalgGrad, IntegerOperandGetsNoGradient) {
  // int32 a with float64 b: the gradient reaches b; a's is the driver's zeros.
  Tensor a(DType::kInt32, {3, 4});
  for (int64_t i = 0; i < a.num_elements(); ++i) a.data<int32_t>()[i] = static_cast<int>(i % 5) - 2;
  GradCheck c;
  c.inputs = {a, RandomTensor({4, 2}, 1)};
  c.build = [](NodeBuilder& g, const std::vector<ir::Variable*>& in) {
    return g.Apply("dot", {in[0], in[1]});
  };
  ExpectGradMatchesFiniteDifferences(c);
  c.build = [](NodeBuilder& g, const std::vector<ir::Variable*>& in) {
    return g.Apply("batched_tensordot", {in[1], g.Dimshuffle(in[0], {1, 0})}, AxesAttrs({}, {}));
  };
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(LinalgGrad, GradientsAreDifferentiable) {
  // d/da of grad(sum(dot(a, b)^2), a): the rule's gradient is itself differentiated.
  for (const char* op : {"dot", "batched_dot"}) {
    SCOPED_TRACE(op);
    GradCheck c;
    c.inputs = {RandomTensor({3, 4}, 1), RandomTensor({3, 4, 2}, 2)};
    c.rtol = 1e-4;
    c.build = [op = std::string(op)](NodeBuilder& g,
                                     const std::vector<ir::Variable*>& in) -> ir::Variable* {
      ir::Variable* y = g.Apply(op, {in[0], in[1]});
      grad::GradRequest req;
      req.cost = g.Apply("sum", {g.Mul(y, y)});
      req.wrt = {in[0]};
      auto r = grad::Grad(g.graph(), req, [](const ir::Variable* v) { return v->DisplayName(); });
      EXPECT_TRUE(r.ok()) << r.status();
      return r.ok() ? r->gradients[0] : nullptr;
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

}  // namespace
}  // namespace tensord::ops
