// The gemm pass (dot plus scale/add patterns -> gemm) and the gemm kernel, against dot + add.
#include "engine/passes/gemm.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/backends/cpu/provider.h"
#include "engine/ops/op_def.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using runtime::Tensor;
using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;
using V = std::vector<ir::Variable*>;
using B = ops::NodeBuilder;

std::vector<double> Ramp(int n, double scale) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = std::cos(i * 0.61) * scale;
  return v;
}
Tensor M(DType t, runtime::Shape shape, double scale = 1) {
  return MakeTensor(t, shape, Ramp(static_cast<int>(runtime::NumElements(shape)) + 1, scale));
}
Tensor S(DType t, double v) { return MakeTensor(t, {}, {v}); }

constexpr double kF32 = 2e-6, kF64 = 1e-13;

TEST(Gemm, SumWithAProduct) {
  auto gemm = MakeGemmPass();
  for (DType t : {DType::kFloat32, DType::kFloat64}) {
    const double rtol = t == DType::kFloat32 ? kF32 : kF64;
    auto out = ExpectRewriteKeepsValues(
        {gemm.get()}, {M(t, {3, 4}), M(t, {4, 5}, 2), M(t, {3, 5}, 3)},
        [](B& b, const V& in) {
          return V{b.Add(in[2], b.Apply("dot", {in[0], in[1]}))};
        },
        rtol);
    EXPECT_EQ(out.expr, "gemm(x2, 1, x0, x1, 1)");
    // z - a * dot(x, y): alpha = -a.
    out = ExpectRewriteKeepsValues(
        {gemm.get()}, {M(t, {3, 4}), M(t, {4, 5}), M(t, {3, 5}), S(t, 0.5)},
        [](B& b, const V& in) {
          return V{b.Sub(in[2], b.Mul(in[3], b.Apply("dot", {in[0], in[1]})))};
        },
        rtol);
    EXPECT_EQ(out.expr, "gemm(x2, neg(x3), x0, x1, 1)");
    // dot(x, y) - z: beta = -1.
    out = ExpectRewriteKeepsValues(
        {gemm.get()}, {M(t, {3, 4}), M(t, {4, 5}), M(t, {3, 5})},
        [](B& b, const V& in) {
          return V{b.Sub(b.Apply("dot", {in[0], in[1]}), in[2])};
        },
        rtol);
    EXPECT_EQ(out.expr, "gemm(x2, 1, x0, x1, -1)");
  }
}

TEST(Gemm, ScalesAndExtraTerms) {
  auto gemm = MakeGemmPass();
  const DType t = DType::kFloat64;
  // b * z + dot(x, y) * a + w -> add(gemm(z, a, x, y, b), w)
  auto out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {3, 4}), M(t, {4, 5}), M(t, {3, 5}), S(t, -1.5), S(t, 0.25), M(t, {5})},
      [](B& b, const V& in) {
        return V{b.Apply(
            "add", {b.Mul(in[4], in[2]), b.Mul(b.Apply("dot", {in[0], in[1]}), in[3]), in[5]})};
      },
      kF64);
  EXPECT_EQ(out.expr, "add(gemm(x2, x3, x0, x1, x4), x5)");
  // -(dot(x, y)) + z
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {2, 3}), M(t, {3, 2}), M(t, {2, 2})},
      [](B& b, const V& in) {
        return V{b.Add(b.Neg(b.Apply("dot", {in[0], in[1]})), in[2])};
      },
      kF64);
  EXPECT_EQ(out.expr, "gemm(x2, -1, x0, x1, 1)");
}

TEST(Gemm, TransposedOperandsAndBroadcastZ) {
  auto gemm = MakeGemmPass();
  const DType t = DType::kFloat32;
  // dot(x.T, y.T) + bias row: z broadcasts over the rows.
  auto out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {4, 3}), M(t, {5, 4}), M(t, {5})},
      [](B& b, const V& in) {
        ir::Variable* d =
            b.Apply("dot", {b.Dimshuffle(in[0], {1, 0}), b.Dimshuffle(in[1], {1, 0})});
        return V{b.Add(d, in[2])};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 1, dimshuffle{1,0}(x0), dimshuffle{1,0}(x1), 1)");
  // A 0-d z, and a z larger than the product (x has one row at run time).
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {3, 4}), M(t, {4, 2}), S(t, 7)},
      [](B& b, const V& in) {
        return V{b.Add(b.Apply("dot", {in[0], in[1]}), in[2])};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 1, x0, x1, 1)");
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {1, 4}), M(t, {4, 2}), M(t, {3, 2})},
      [](B& b, const V& in) {
        return V{b.Add(b.Apply("dot", {in[0], in[1]}), in[2])};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 1, x0, x1, 1)");
  // Empty sums: k == 0 gives beta * z.
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {3, 0}), M(t, {0, 2}), M(t, {3, 2})},
      [](B& b, const V& in) {
        return V{b.Add(b.Apply("dot", {in[0], in[1]}), in[2])};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 1, x0, x1, 1)");
}

TEST(Gemm, TensordotOfMatricesIsAProductOfTransposes) {
  auto gemm = MakeGemmPass();
  const DType t = DType::kFloat32;
  // W - 0.1 * x.T @ g, as an SGD update builds it: tensordot(x, g, [0], [0]).
  auto out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {5, 3}), M(t, {5, 4}), M(t, {3, 4})},
      [](B& b, const V& in) {
        ir::Variable* grad =
            b.Apply("tensordot", {in[0], in[1]},
                    {{"axes_a", std::vector<int64_t>{0}}, {"axes_b", std::vector<int64_t>{0}}});
        return V{b.Sub(in[2], b.Mul(b.Constant(0.1, DType::kFloat32), grad))};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, -0.1, dimshuffle{1,0}(x0), x1, 1)");
  // Scales of shape (1, 1), as the Python client pads them: constants, and inputs viewed 0-d.
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {2, 3}), M(t, {3, 4}), M(t, {2, 4}), S(t, 0.25)},
      [](B& b, const V& in) {
        ir::Variable* c = b.graph().AddConstant(MakeTensor(DType::kFloat32, {1, 1}, {3}),
                                                ir::Type{DType::kFloat32, {true, true}});
        ir::Variable* s = b.Dimshuffle(in[3], {-1, -1});
        return V{b.Add(b.Mul(c, b.Apply("dot", {in[0], in[1]})), b.Mul(in[2], s))};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 3, x0, x1, dimshuffle{}(dimshuffle{x,x}(x3)))");
  // g @ W.T: tensordot(g, W, [1], [-1]).
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {2, 4}), M(t, {3, 4}), M(t, {2, 3})},
      [](B& b, const V& in) {
        ir::Variable* p =
            b.Apply("tensordot", {in[0], in[1]},
                    {{"axes_a", std::vector<int64_t>{1}}, {"axes_b", std::vector<int64_t>{-1}}});
        return V{b.Add(p, in[2])};
      },
      kF32);
  EXPECT_EQ(out.expr, "gemm(x2, 1, x0, dimshuffle{1,0}(x1), 1)");
  // Two summed axes are no matrix product.
  out = ExpectRewriteKeepsValues(
      {gemm.get()}, {M(t, {2, 4}), M(t, {2, 4}), M(t, {})},
      [](B& b, const V& in) {
        ir::Variable* p = b.Apply(
            "tensordot", {in[0], in[1]},
            {{"axes_a", std::vector<int64_t>{0, 1}}, {"axes_b", std::vector<int64_t>{0, 1}}});
        return V{b.Add(p, in[2])};
      },
      kF32);
  EXPECT_FALSE(out.changed);
}

TEST(Gemm, LeavesProductsThatAreNeededElsewhere) {
  auto gemm = MakeGemmPass();
  const DType t = DType::kFloat64;
  auto out = ExpectRewriteKeepsValues({gemm.get()}, {M(t, {2, 3}), M(t, {3, 2}), M(t, {2, 2})},
                                      [](B& b, const V& in) {
                                        ir::Variable* d = b.Apply("dot", {in[0], in[1]});
                                        return V{b.Add(d, in[2]), d};
                                      });
  EXPECT_FALSE(out.changed);
  // Integer products have no BLAS; vectors are not matrices.
  out = ExpectRewriteKeepsValues(
      {gemm.get()},
      {MakeTensor(DType::kInt32, {2, 2}, {1, 2, 3, 4}), MakeTensor(DType::kInt32, {2, 2}, {5, 6}),
       MakeTensor(DType::kInt32, {2, 2}, {1})},
      [](B& b, const V& in) {
        return V{b.Add(b.Apply("dot", {in[0], in[1]}), in[2])};
      });
  EXPECT_FALSE(out.changed);
  out = ExpectRewriteKeepsValues({gemm.get()}, {M(t, {3}), M(t, {3, 2}), M(t, {2})},
                                 [](B& b, const V& in) {
                                   return V{b.Add(b.Apply("dot", {in[0], in[1]}), in[2])};
                                 });
  EXPECT_FALSE(out.changed);
}

// The kernel directly: beta = 0 still propagates NaN from z (BLAS would ignore C), and z taken
// as the output's own Tensor is updated in its buffer.
TEST(GemmKernel, ZeroBetaAndInPlaceZ) {
  ir::Graph g;
  ops::NodeBuilder b(g);
  const DType t = DType::kFloat64;
  auto* z = g.AddInput(ir::Type::Of(t, 2));
  auto* x = g.AddInput(ir::Type::Of(t, 2));
  auto* y = g.AddInput(ir::Type::Of(t, 2));
  auto* s = g.AddInput(ir::Type::Scalar(t));
  ir::Variable* out = b.Apply("gemm", {z, s, x, y, s});
  ASSERT_TRUE(b.status().ok()) << b.status();
  auto kernel = cpu::MakeNodeKernel(*out->owner);
  ASSERT_TRUE(kernel.ok());

  Tensor zv = MakeTensor(t, {2, 2}, {NAN, 1, INFINITY, 2});
  Tensor xv = MakeTensor(t, {2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor yv = MakeTensor(t, {3, 2}, {1, 0, 0, 1, 1, 1});
  Tensor zero = MakeTensor(t, {}, {0});
  Tensor result;
  const Tensor* in[] = {&zv, &zero, &xv, &yv, &zero};
  Tensor* outs[] = {&result};
  ASSERT_TRUE((*kernel)->Run(in, outs).ok());
  EXPECT_TRUE(std::isnan(result.data<double>()[0]));
  EXPECT_EQ(result.data<double>()[1], 0);
  EXPECT_TRUE(std::isnan(result.data<double>()[2]));
  EXPECT_EQ(result.data<double>()[3], 0);

  Tensor two = MakeTensor(t, {}, {2});
  Tensor zin = MakeTensor(t, {2, 2}, {1, 1, 1, 1});
  const void* buffer = zin.raw();
  const Tensor* in2[] = {&zin, &two, &xv, &yv, &two};
  Tensor* outs2[] = {&zin};
  ASSERT_TRUE((*kernel)->Run(in2, outs2).ok());
  EXPECT_EQ(zin.raw(), buffer);
  // 2 * [[4, 5], [10, 11]] + 2 * 1
  const double want[] = {10, 12, 22, 24};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(zin.data<double>()[i], want[i]);

  // Not aligned: an error naming the shapes, not a crash.
  Tensor bad = MakeTensor(t, {2, 2}, {1});
  const Tensor* in3[] = {&zv, &two, &xv, &bad, &two};
  absl::Status st = (*kernel)->Run(in3, outs);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("not aligned"), std::string::npos) << st;
}

TEST(GemmKernel, TypeRules) {
  ir::Graph g;
  auto infer = [&](std::vector<ir::Variable*> in) {
    ir::Apply probe{"gemm", {}, std::move(in), {}, nullptr};
    std::vector<ir::Type> types;
    absl::Status s = ops::ResolveAndInfer(probe, &types);
    return s.ok() ? ir::TypeString(types[0]) : std::string(s.message());
  };
  auto m = [&](DType d, int nd) { return g.AddInput(ir::Type::Of(d, nd)); };
  auto* a = g.AddInput(ir::Type::Scalar(DType::kFloat32));
  const DType f = DType::kFloat32;
  EXPECT_EQ(infer({m(f, 2), a, m(f, 2), m(f, 2), a}), "TensorType(float32, matrix)");
  EXPECT_EQ(infer({m(f, 1), a, m(f, 2), m(f, 2), a}), "TensorType(float32, matrix)");
  EXPECT_NE(infer({m(f, 3), a, m(f, 2), m(f, 2), a}).find("at most 2"), std::string::npos);
  EXPECT_NE(infer({m(f, 2), a, m(DType::kInt32, 2), m(DType::kInt32, 2), a}).find("float32 or"),
            std::string::npos);
  EXPECT_NE(infer({m(DType::kFloat64, 2), a, m(f, 2), m(f, 2), a}).find("would make"),
            std::string::npos);
  EXPECT_NE(infer({m(f, 2), m(f, 1), m(f, 2), m(f, 2), a}).find("0-d"), std::string::npos);
}

}  // namespace
}  // namespace tensord::passes
