// The fusion pass: which nodes join a composite, and that the fused graph computes exactly what
// the unfused one does (rtol 0: the composite evaluates the same scalar ops in the same order).
#include "engine/passes/fusion.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/ops/defs/composite.h"
#include "engine/ops/op_def.h"
#include "engine/passes/pass_testing.h"

namespace tensord::passes {
namespace {

using testing::ExpectRewriteKeepsValues;
using testing::MakeTensor;
using V = std::vector<ir::Variable*>;
using B = ops::NodeBuilder;

constexpr double kExact = 0;
const std::vector<double> kValues = {-2.5, -1, -0.0, 0, 0.5, 1, 3, NAN, INFINITY, -0.25, 7};

runtime::Tensor F32(runtime::Shape shape) { return MakeTensor(DType::kFloat32, shape, kValues); }
runtime::Tensor F64(runtime::Shape shape) { return MakeTensor(DType::kFloat64, shape, kValues); }

TEST(Fusion, ChainBecomesOneComposite) {
  auto fusion = MakeFusionPass();
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({3, 4}), F32({3, 4}), F32({3, 4})},
      [](B& b, const V& in) { return V{b.Apply("exp", {b.Add(b.Mul(in[0], in[1]), in[2])})}; },
      kExact);
  EXPECT_TRUE(out.changed);
  EXPECT_EQ(out.expr, "composite(x0, x1, x2)");
}

TEST(Fusion, ExprNamesTheProgramLikeTheano) {
  auto built =
      testing::Build({ir::Type::Of(DType::kFloat64, 1), ir::Type::Of(DType::kFloat64, 1)},
                     [](B& b, const V& in) { return V{b.Mul(b.Add(in[0], in[1]), in[0])}; });
  ASSERT_TRUE(testing::Rewrite(*built.graph, {MakeFusionPass().get()}).ok());
  const ir::Apply* c = built.graph->outputs()[0]->owner;
  ASSERT_EQ(c->op, "composite");
  EXPECT_EQ(std::get<std::string>(c->attrs.at("expr")), "Composite{((i0 + i1) * i0)}");
}

TEST(Fusion, SingleNodesStayAlone) {
  auto fusion = MakeFusionPass();
  auto out = ExpectRewriteKeepsValues({fusion.get()}, {F32({4}), F32({4})},
                                      [](B& b, const V& in) { return V{b.Add(in[0], in[1])}; });
  EXPECT_FALSE(out.changed);
  EXPECT_EQ(out.expr, "add(x0, x1)");
}

TEST(Fusion, IntermediateUsedOutsideIsNotFusedAcross) {
  auto fusion = MakeFusionPass();
  // t = x + y is an output as well: it stays, and exp(t) * 2 * z fuses on top of it.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({5}), F32({5}), F32({5})},
      [](B& b, const V& in) {
        ir::Variable* t = b.Add(in[0], in[1]);
        ir::Variable* e = b.Apply("exp", {t});
        return V{t, b.Mul(b.Mul(e, b.Constant(2, DType::kFloat32)), in[2])};
      },
      kExact);
  EXPECT_EQ(out.expr, "add(x0, x1); composite(add(x0, x1), x2)");
  // A non-elementwise reader (sum) of an intermediate keeps it out too.
  out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({5}), F32({5})},
      [](B& b, const V& in) {
        ir::Variable* e = b.Apply("exp", {b.Add(in[0], in[1])});
        return V{b.Mul(b.Apply("tanh", {e}), b.Sum(e, {0}))};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(composite(x0, x1), sum(composite(x0, x1)))");
}

TEST(Fusion, OneElementConstantsBecomeLiteralsUnlessTheyAddDims) {
  auto fusion = MakeFusionPass();
  auto padded = [](DType d, int ndim, double v) {
    return [=](B& b) {
      runtime::Tensor t = MakeTensor(d, runtime::Shape(ndim, 1), {v});
      return b.graph().AddConstant(t, ir::Type{d, std::vector<bool>(ndim, true)});
    };
  };
  // (x * 2 + 1) with the constants padded to (1, 1), as the Python client sends them.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({3, 4})},
      [&](B& b, const V& in) {
        return V{b.Add(b.Mul(in[0], padded(DType::kFloat32, 2, 2)(b)),
                       padded(DType::kFloat32, 2, 1)(b))};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(x0)");
  // A (1, 1) constant in a vector expression makes the result a matrix: it stays an input.
  out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({4})},
      [&](B& b, const V& in) {
        return V{b.Apply("exp", {b.Mul(in[0], padded(DType::kFloat32, 2, 3)(b))})};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(x0, const(1, 1))");
}

TEST(Fusion, BroadcastingAcrossTheGroup) {
  auto fusion = MakeFusionPass();
  // (x (3,4) + y (4,)) * z (0-d) - w (3,1): the composite's shape is the broadcast of all.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F64({3, 4}), F64({4}), F64({}), F64({3, 1})},
      [](B& b, const V& in) { return V{b.Sub(b.Mul(b.Add(in[0], in[1]), in[2]), in[3])}; }, kExact);
  EXPECT_EQ(out.expr, "composite(x0, x1, x2, x3)");
  // Runtime broadcasting of size-1 dims the types do not mark: x (1,4) with y (3,1).
  out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({1, 4}), F32({3, 1})},
      [](B& b, const V& in) { return V{b.Apply("sqr", {b.Sub(in[0], in[1])})}; }, kExact);
  EXPECT_EQ(out.expr, "composite(x0, x1)");
}

TEST(Fusion, ComparisonsAndSwitchInsideAGroup) {
  auto fusion = MakeFusionPass();
  // Leaky relu: switch(x > 0, x, 0.1 * x), and a mask used as a number: x * (x > y).
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({11}), MakeTensor(DType::kFloat32, {11}, {0.5, -1, 0, 2})},
      [](B& b, const V& in) {
        ir::Variable* zero = b.Constant(0, DType::kFloat32);
        ir::Variable* leaky = b.Switch(b.Apply("gt", {in[0], zero}), in[0],
                                       b.Mul(b.Constant(0.1, DType::kFloat32), in[0]));
        return V{b.Add(leaky, b.Mul(in[0], b.Apply("gt", {in[0], in[1]})))};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(x0, x1)");
}

TEST(Fusion, ComparisonInAWiderDTypeStaysOut) {
  auto fusion = MakeFusionPass();
  // gt(float32, int32) compares in float64: not the group's float32.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({6}), MakeTensor(DType::kInt32, {6}, {0, 1, -1, 3})},
      [](B& b, const V& in) {
        ir::Variable* mask = b.Apply("gt", {in[0], in[1]});
        return V{b.Mul(b.Apply("exp", {in[0]}), b.Switch(mask, in[0], b.Neg(in[0])))};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(x0, gt(x0, x1))");
}

TEST(Fusion, SwitchOnAWiderFloatConditionStaysOut) {
  auto fusion = MakeFusionPass();
  // A float64 condition of 1e-50 is true, but 0 once cast to float32.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({3}), MakeTensor(DType::kFloat64, {3}, {1e-50, 0, -2})},
      [](B& b, const V& in) { return V{b.Switch(in[1], b.Apply("exp", {in[0]}), b.Neg(in[0]))}; },
      kExact);
  EXPECT_EQ(out.expr, "switch(x1, exp(x0), neg(x0))");
}

TEST(Fusion, NaryAddKeepsItsSummationOrder) {
  auto fusion = MakeFusionPass();
  // 1e8 + 1 - 1e8 + ... in float32: any other order gives another result.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()},
      {MakeTensor(DType::kFloat32, {4}, {1e8, 1, -1e8, 3}),
       MakeTensor(DType::kFloat32, {4}, {1, 1e8, 1, -1e8}),
       MakeTensor(DType::kFloat32, {4}, {-1e8, -1e8, 1e8, 1}),
       MakeTensor(DType::kFloat32, {4}, {0.5, 0.25, 3, 1e8})},
      [](B& b, const V& in) {
        return V{b.Apply("exp", {b.Apply("add", {in[0], in[1], in[2], in[3]})})};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(x0, x1, x2, x3)");
}

TEST(Fusion, MixedInputDTypesAreCastAsTheUnfusedOpsCastThem) {
  auto fusion = MakeFusionPass();
  // int8 and bool inputs read as float32, a float64 constant taken as a float32 literal.
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()},
      {F32({5}), MakeTensor(DType::kInt8, {5}, {1, -3, 100, 0, 7}),
       MakeTensor(DType::kBool, {5}, {1, 0, 1})},
      [](B& b, const V& in) {
        ir::Variable* s = b.Add(in[0], in[1]);
        return V{b.Mul(b.Mul(s, in[2]), b.Cast(b.Constant(0.1, DType::kFloat64), DType::kFloat32))};
      },
      kExact);
  EXPECT_TRUE(out.changed);
}

TEST(Fusion, IntegerAndFloat64GraphsFuseOnlyInFloat) {
  auto fusion = MakeFusionPass();
  auto out = ExpectRewriteKeepsValues(
      {fusion.get()},
      {MakeTensor(DType::kInt32, {4}, {1, 2, 3, 4}), MakeTensor(DType::kInt32, {4}, {5, 6, 7, 8})},
      [](B& b, const V& in) { return V{b.Mul(b.Add(in[0], in[1]), in[0])}; });
  EXPECT_FALSE(out.changed);
  // Different float dtypes form different groups: a float64 sum of float32 values.
  out = ExpectRewriteKeepsValues(
      {fusion.get()}, {F32({4}), F64({4})},
      [](B& b, const V& in) {
        ir::Variable* f32 = b.Apply("exp", {b.Neg(in[0])});
        return V{b.Apply("tanh", {b.Add(f32, in[1])})};
      },
      kExact);
  EXPECT_EQ(out.expr, "composite(composite(x0), x1)");
}

TEST(Fusion, EveryFusableOpFusesExactly) {
  // Each op of the table inside a two-node group: op(...) then neg.
  auto fusion = MakeFusionPass();
  for (const ops::OpDef* def : ops::Registry::Global().All()) {
    if (def->FusionOpcode() < 0) continue;
    const ops::ScalarForm& info = *def->scalar;
    std::vector<runtime::Tensor> inputs;
    for (int k = 0; k < info.arity; ++k) {
      std::vector<double> values = kValues;
      std::rotate(values.begin(), values.begin() + 2 * k, values.end());
      runtime::Shape shape(info.arity - k, 1);
      shape[0] = static_cast<int64_t>(values.size());
      inputs.push_back(MakeTensor(DType::kFloat64, shape, values));
    }
    auto out = ExpectRewriteKeepsValues(
        {fusion.get()}, inputs,
        [&](B& b, const V& in) {
          ir::Variable* v = b.Apply(def->name, in);
          if (info.predicate) v = b.Mul(v, in[0]);  // a bool used as 0/1
          return V{b.Neg(v)};
        },
        kExact);
    EXPECT_TRUE(out.changed) << def->name << ": " << out.expr;
    EXPECT_EQ(out.expr.rfind("composite(", 0), 0u) << def->name << ": " << out.expr;
  }
}

}  // namespace
}  // namespace tensord::passes
