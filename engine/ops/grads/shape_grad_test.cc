// Finite-difference checks of the grad rules in shape.cc.
#include <gtest/gtest.h>

#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"

namespace tensord::ops {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::GradOf;
using grad::testing::RandomTensor;
using ir::Variable;
using runtime::Tensor;
using Inputs = std::vector<Variable*>;

Tensor F32(const Tensor& t) {
  Tensor out(DType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.num_elements(); ++i) out.data<float>()[i] = t.data<double>()[i];
  return out;
}

Tensor Ints(runtime::Shape shape, std::vector<int64_t> values, DType dtype = DType::kInt64) {
  Tensor t(dtype, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::kInt32) {
      t.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
    } else {
      t.data<int64_t>()[i] = values[i];
    }
  }
  return t;
}

Tensor Scalar(double v) {
  Tensor t(DType::kFloat64, {});
  *t.data<double>() = v;
  return t;
}

Variable* I64(NodeBuilder& b, int64_t v) {
  return b.Constant(static_cast<double>(v), DType::kInt64);
}

// The gradient of `cost` with respect to `x`, built into the graph: a rule's output differentiated
// again (second derivatives).
Variable* Sqr(NodeBuilder& b, Variable* x) { return b.Mul(x, x); }

// ---- cast ----

TEST(ShapeGrad, Cast) {
  for (DType to : {DType::kFloat32, DType::kFloat64}) {
    GradCheck c;
    c.inputs = {RandomTensor({3, 4}, 1)};
    c.build = [to](NodeBuilder& b, const Inputs& x) { return Sqr(b, b.Cast(x[0], to)); };
    if (to == DType::kFloat32) c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;  // float32 math
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck c;
  c.inputs = {F32(RandomTensor({5}, 2))};
  c.build = [](NodeBuilder& b, const Inputs& x) { return Sqr(b, b.Cast(x[0], DType::kFloat64)); };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
}

// A cast to an integer is a step function: zero gradient, as Theano.
TEST(ShapeGrad, CastToIntegerGivesZeros) {
  auto g = std::make_unique<ir::Graph>();
  Variable* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  g->inputs() = {x};
  NodeBuilder b(*g);
  Variable* cost = b.Sum(b.Cast(b.Cast(x, DType::kInt32), DType::kFloat64), {0});
  grad::GradRequest req;
  req.cost = cost;
  req.wrt = {x};
  auto r = grad::Grad(*g, req, [](const Variable* v) { return v->DisplayName(); });
  ASSERT_TRUE(r.ok()) << r.status();
  auto out = grad::testing::Evaluate(std::move(g), r->gradients, {RandomTensor({3}, 1, 1, 5)});
  ASSERT_TRUE(out.ok()) << out.status();
  for (int i = 0; i < 3; ++i) EXPECT_EQ((*out)[0].data<double>()[i], 0.0);
}

// ---- dimshuffle ----

TEST(ShapeGrad, Dimshuffle) {
  struct Case {
    runtime::Shape shape;
    std::vector<bool> bcast;
    std::vector<int64_t> order;
  };
  for (const Case& k : std::vector<Case>{
           {{2, 3, 4}, {}, {2, 0, 1}},
           {{3, 4}, {}, {1, -1, 0}},
           {{3, 4}, {}, {-1, 0, -1, 1}},
           {{}, {}, {-1, -1}},
           {{5}, {}, {0}},
           {{3, 1, 4}, {false, true, false}, {2, 0}},  // drops the broadcastable dim
           {{1, 3}, {true, false}, {-1, 1, -1}},       // drops it and adds two
           {{1, 1}, {true, true}, {}},                 // to a scalar
       }) {
    GradCheck c;
    c.inputs = {RandomTensor(k.shape, 3)};
    c.broadcastable = {k.bcast};
    c.build = [&k](NodeBuilder& b, const Inputs& x) { return Sqr(b, b.Dimshuffle(x[0], k.order)); };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

// ---- reshape and flatten ----

TEST(ShapeGrad, Reshape) {
  struct Case {
    runtime::Shape shape;
    std::vector<int64_t> to;
  };
  for (const Case& k : std::vector<Case>{
           {{3, 4}, {12}}, {{2, 3, 4}, {4, -1}}, {{}, {1, 1}}, {{6}, {2, 1, 3}}, {{1}, {}}}) {
    GradCheck c;
    c.inputs = {RandomTensor(k.shape, 4)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("reshape", {x[0], b.IntVector(k.to)},
                            {{"ndim", static_cast<int64_t>(k.to.size())}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  // A symbolic shape (from another input) and a float32 input.
  GradCheck c;
  c.inputs = {F32(RandomTensor({2, 6}, 5)), RandomTensor({3, 4}, 6)};
  c.wrt = {0};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("reshape", {x[0], b.Shape(x[1])}, {{"ndim", int64_t{2}}}));
  };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(ShapeGrad, Flatten) {
  for (int64_t ndim : {1, 2, 3}) {
    GradCheck c;
    c.inputs = {RandomTensor({2, 3, 4}, 7)};
    c.build = [ndim](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("flatten", {x[0]}, {{"ndim", ndim}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck c;
  c.inputs = {RandomTensor({}, 8)};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("flatten", {x[0]}, {{"ndim", int64_t{1}}}));
  };
  ExpectGradMatchesFiniteDifferences(c);
}

// ---- fill and alloc ----

TEST(ShapeGrad, Fill) {
  struct Case {
    runtime::Shape model, value;
    std::vector<bool> value_bcast;
  };
  for (const Case& k : std::vector<Case>{{{3, 4}, {}, {}},
                                         {{3, 4}, {4}, {}},
                                         {{3, 4}, {1, 4}, {true, false}},
                                         {{3, 4}, {3, 1}, {}},  // broadcast at run time
                                         {{2, 3, 4}, {3, 4}, {}},
                                         {{}, {}, {}}}) {
    GradCheck c;
    c.inputs = {RandomTensor(k.model, 9), RandomTensor(k.value, 10)};
    c.broadcastable = {{}, k.value_bcast};
    c.build = [](NodeBuilder& b, const Inputs& x) {
      // The model's values enter only through its shape: a zero gradient.
      return b.Mul(b.Fill(x[0], x[1]), x[0]);
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  // An integer model.
  GradCheck c;
  c.inputs = {Ints({2, 2}, {1, 2, 3, 4}), RandomTensor({2}, 11)};
  c.build = [](NodeBuilder& b, const Inputs& x) { return Sqr(b, b.Fill(x[0], x[1])); };
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(ShapeGrad, Alloc) {
  struct Case {
    runtime::Shape value;
    std::vector<bool> bcast;
    std::vector<int64_t> dims;
  };
  for (const Case& k : std::vector<Case>{{{}, {}, {2, 3}},
                                         {{3}, {}, {2, 3}},
                                         {{1, 3}, {true, false}, {4, 3}},
                                         {{2, 1}, {}, {2, 5}},  // broadcast at run time
                                         {{2, 3}, {}, {2, 3}},
                                         {{}, {}, {}},
                                         {{3}, {}, {2, 2, 3}}}) {
    GradCheck c;
    c.inputs = {RandomTensor(k.value, 12)};
    c.broadcastable = {k.bcast};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      Inputs in{x[0]};
      for (int64_t d : k.dims) in.push_back(I64(b, d));
      return Sqr(b, b.Apply("alloc", in));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  // A dimension from a symbolic shape.
  GradCheck c;
  c.inputs = {F32(RandomTensor({4}, 13)), RandomTensor({3, 2}, 14)};
  c.wrt = {0};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("alloc", {x[0], b.ShapeI(x[1], 0), I64(b, 4)}));
  };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
}

// ---- join and make_vector ----

TEST(ShapeGrad, JoinThreeInputs) {
  for (int64_t axis : {0, 1, -1, 2}) {
    GradCheck c;
    // Sizes differ only along the joined axis.
    runtime::Shape s0{2, 3, 4}, s1{2, 3, 4}, s2{2, 3, 4};
    const int64_t a = axis < 0 ? axis + 3 : axis;
    s0[a] = 1, s1[a] = 3, s2[a] = 2;
    c.inputs = {RandomTensor(s0, 15), RandomTensor(s1, 16), RandomTensor(s2, 17)};
    c.build = [axis](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("join", {x[0], x[1], x[2]}, {{"axis", axis}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  for (int64_t axis : {0, 1}) {
    GradCheck c;
    runtime::Shape s0{3, 2}, s1{3, 2}, s2{3, 2};
    s1[axis] = 4, s2[axis] = 1;
    c.inputs = {RandomTensor(s0, 18), RandomTensor(s1, 19), RandomTensor(s2, 20)};
    c.build = [axis](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("join", {x[0], x[1], x[2]}, {{"axis", axis}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

TEST(ShapeGrad, JoinVectorsFloat32AndIntegers) {
  GradCheck c;
  c.inputs = {F32(RandomTensor({3}, 21)), F32(RandomTensor({2}, 22))};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("join", {x[0], x[1]}, {{"axis", int64_t{0}}}));
  };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
  // An integer input in the middle (promoted, no gradient) and a single input.
  GradCheck m;
  m.inputs = {RandomTensor({2, 2}, 23), Ints({2, 1}, {4, 5}), RandomTensor({2, 3}, 24)};
  m.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("join", {x[0], x[1], x[2]}, {{"axis", int64_t{1}}}));
  };
  ExpectGradMatchesFiniteDifferences(m);
  GradCheck one;
  one.inputs = {RandomTensor({2, 2}, 25)};
  one.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("join", {x[0]}, {{"axis", int64_t{1}}}));
  };
  ExpectGradMatchesFiniteDifferences(one);
}

TEST(ShapeGrad, MakeVector) {
  GradCheck c;
  c.inputs = {Scalar(0.5), Scalar(-1.5), Ints({}, {3}), Scalar(2)};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("make_vector", x, {{"dtype", DType::kFloat64}}));
  };
  ExpectGradMatchesFiniteDifferences(c);
  GradCheck f;
  f.inputs = {F32(Scalar(0.5)), F32(Scalar(-0.25))};
  f.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("make_vector", x, {{"dtype", DType::kFloat32}}));
  };
  f.eps = 1e-3, f.rtol = 1e-2, f.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(f);
}

// ---- tile and repeat ----

TEST(ShapeGrad, Tile) {
  struct Case {
    runtime::Shape shape;
    std::vector<int64_t> reps;
  };
  for (const Case& k : std::vector<Case>{{{4}, {3}},
                                         {{2, 3}, {2, 3}},
                                         {{2, 3}, {1, 2}},
                                         {{2, 3}, {2, 1, 3}},  // a new leading dim
                                         {{2, 3}, {2}},        // reps padded with 1s
                                         {{2, 3}, {1, 1}},
                                         {{}, {3, 2}},
                                         {{2, 3, 2}, {2, 1, 2}},
                                         {{2, 3}, {0, 2}}}) {  // an empty output
    GradCheck c;
    c.inputs = {RandomTensor(k.shape, 26)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("tile", {x[0]}, {{"reps", k.reps}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

// reps of the maximal rank with some dims tiled: splitting them all at once would pass the rank
// limit, so the rule takes the one-dim-at-a-time path.
TEST(ShapeGrad, TileOfMaximalRank) {
  std::vector<int64_t> reps(ir::kMaxRank, 1);
  reps[0] = 2, reps[ir::kMaxRank - 2] = 2, reps[ir::kMaxRank - 1] = 3;
  GradCheck c;
  c.inputs = {RandomTensor({2, 3}, 27)};
  c.build = [&reps](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("tile", {x[0]}, {{"reps", reps}}));
  };
  ExpectGradMatchesFiniteDifferences(c);
}

TEST(ShapeGrad, RepeatScalarCount) {
  for (std::optional<int64_t> axis : {std::optional<int64_t>(), std::optional<int64_t>(0),
                                      std::optional<int64_t>(1), std::optional<int64_t>(-1)}) {
    GradCheck c;
    c.inputs = {RandomTensor({2, 3}, 28), Ints({}, {3}, DType::kInt32)};
    c.build = [axis](NodeBuilder& b, const Inputs& x) {
      ir::Attrs attrs;
      if (axis) attrs["axis"] = *axis;
      return Sqr(b, b.Apply("repeat", {x[0], x[1]}, attrs));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck s;  // a 0-d x, flattened
  s.inputs = {RandomTensor({}, 29), Ints({}, {4})};
  s.build = [](NodeBuilder& b, const Inputs& x) { return Sqr(b, b.Apply("repeat", {x[0], x[1]})); };
  ExpectGradMatchesFiniteDifferences(s);
}

TEST(ShapeGrad, RepeatVectorCounts) {
  struct Case {
    runtime::Shape shape;
    std::vector<int64_t> counts;
    std::optional<int64_t> axis;
  };
  for (const Case& k : std::vector<Case>{{{2, 3}, {1, 0, 3}, 1},
                                         {{2, 3}, {2, 1}, 0},
                                         {{2, 3}, {2, 0, 1, 1, 3, 1}, std::nullopt},
                                         {{2, 3, 2}, {3, 1, 2}, 1},
                                         {{2, 3, 2}, {1, 2}, -1},
                                         {{2, 3}, {2}, 1},  // one count for every element
                                         {{4}, {1, 2, 0, 2}, 0}}) {
    GradCheck c;
    c.inputs = {RandomTensor(k.shape, 30), Ints({static_cast<int64_t>(k.counts.size())}, k.counts)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      ir::Attrs attrs;
      if (k.axis) attrs["axis"] = *k.axis;
      return Sqr(b, b.Apply("repeat", {x[0], x[1]}, attrs));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck f;
  f.inputs = {F32(RandomTensor({3, 2}, 31)), Ints({3}, {2, 1, 2})};
  f.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("repeat", {x[0], x[1]}, {{"axis", int64_t{0}}}));
  };
  f.eps = 1e-3, f.rtol = 1e-2, f.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(f);
}

// ---- arange ----

TEST(ShapeGrad, Arange) {
  // Values away from the points where the length changes: (5.05 - 0.3) / 0.7 = 6.79 -> 7.
  GradCheck c;
  c.inputs = {Scalar(0.3), Scalar(5.05), Scalar(0.7)};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("arange", {x[0], x[1], x[2]}, {{"dtype", DType::kFloat64}}));
  };
  ExpectGradMatchesFiniteDifferences(c);
  GradCheck f;
  f.inputs = {F32(Scalar(-1.2)), Ints({}, {3}), F32(Scalar(0.45))};
  f.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("arange", {x[0], x[1], x[2]}, {{"dtype", DType::kFloat32}}));
  };
  f.eps = 1e-3, f.rtol = 1e-2, f.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(f);
}

// ---- ifelse ----

TEST(ShapeGrad, IfElse) {
  for (int64_t cond : {1, 0}) {
    GradCheck c;
    // The branches differ in shape: the gradient of the branch not taken keeps its own shape.
    c.inputs = {Ints({}, {cond}), RandomTensor({2, 3}, 32), RandomTensor({3}, 33),
                RandomTensor({4, 3}, 34), RandomTensor({5}, 35)};
    c.build = [](NodeBuilder& b, const Inputs& x) {
      auto outs = b.ApplyMulti("ifelse", {x[0], x[1], x[2], x[3], x[4]});
      Variable* second = b.Sum(Sqr(b, outs[1]), {0});
      return b.Add(Sqr(b, outs[0]), b.Apply("exp", {second}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  // One output unused (no gradient reaches it), a float condition, float32 values.
  GradCheck u;
  u.inputs = {Scalar(0.5), F32(RandomTensor({3}, 36)), F32(RandomTensor({2}, 37)),
              F32(RandomTensor({3}, 38)), F32(RandomTensor({2}, 39))};
  u.wrt = {1, 2, 3, 4};
  u.build = [](NodeBuilder& b, const Inputs& x) {
    auto outs = b.ApplyMulti("ifelse", {x[0], x[1], x[2], x[3], x[4]});
    return Sqr(b, outs[0]);
  };
  u.eps = 1e-3, u.rtol = 1e-2, u.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(u);
}

// ---- second derivatives: the rules build differentiable graphs ----

TEST(ShapeGrad, SecondDerivatives) {
  // d/dx of d(sum(f(x)^3))/dx for f = join, tile, repeat (vector counts), dimshuffle.
  using F = grad::testing::UnaryBuildFn;
  std::vector<F> fs = {
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("join", {x, b.Mul(x, x), x}, {{"axis", int64_t{1}}});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("tile", {x}, {{"reps", std::vector<int64_t>{2, 1, 2}}});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("repeat", {x, b.IntVector({2, 0, 3})}, {{"axis", int64_t{1}}});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Dimshuffle(x, {1, -1, 0});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("repeat", {x, I64(b, 2)});
      },
  };
  grad::testing::ExpectSecondDerivativesMatch({2, 3}, 40, fs);
}

}  // namespace
}  // namespace tensord::ops
