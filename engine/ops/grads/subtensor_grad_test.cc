// Finite-difference checks of the grad rules in subtensor.cc.
#include <gtest/gtest.h>

#include "engine/grad/grad.h"
#include "engine/grad/testing/grad_check.h"
#include "engine/ops/defs/subtensor.h"

namespace tensord::ops {
namespace {

using grad::testing::ExpectGradMatchesFiniteDifferences;
using grad::testing::GradCheck;
using grad::testing::GradOf;
using grad::testing::RandomTensor;
using ir::Variable;
using runtime::Tensor;
using Inputs = std::vector<Variable*>;
using Idx = std::vector<int64_t>;

constexpr int64_t kNone = subtensor::kIndexNone;
constexpr int64_t kSym = subtensor::kIndexSymbolic;

// idx_list entries.
Idx Int(int64_t i) { return {0, i, 0, 0}; }
Idx Slice(int64_t start = kNone, int64_t stop = kNone, int64_t step = kNone) {
  return {1, start, stop, step};
}
Idx Array() { return {2, 0, 0, 0}; }
Idx Cat(std::initializer_list<Idx> parts) {
  Idx out;
  for (const Idx& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

Tensor F32(const Tensor& t) {
  Tensor out(DType::kFloat32, t.shape());
  for (int64_t i = 0; i < t.num_elements(); ++i) out.data<float>()[i] = t.data<double>()[i];
  return out;
}

Tensor Ints(runtime::Shape shape, std::vector<int64_t> values) {
  Tensor t(DType::kInt64, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

Variable* IntConst(NodeBuilder& b, runtime::Shape shape, std::vector<int64_t> values) {
  const int nd = static_cast<int>(shape.size());
  return b.graph().AddConstant(Ints(std::move(shape), std::move(values)),
                               ir::Type::Of(DType::kInt64, nd));
}

Variable* Mask(NodeBuilder& b, runtime::Shape shape, std::vector<bool> values) {
  Tensor t(DType::kBool, shape);
  for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
  return b.graph().AddConstant(std::move(t), ir::Type::Of(DType::kBool, shape.size()));
}

Variable* Sqr(NodeBuilder& b, Variable* x) { return b.Mul(x, x); }

Variable* Inc(NodeBuilder& b, const std::string& op, Inputs inputs, const Idx& idx, bool set) {
  ir::Attrs attrs{{"set_instead_of_inc", set}};
  if (!idx.empty() || op != "advanced_inc_subtensor1") attrs["idx_list"] = idx;
  return b.Apply(op, std::move(inputs), std::move(attrs));
}

// ---- subtensor ----

TEST(SubtensorGrad, BasicIndexing) {
  struct Case {
    runtime::Shape shape;
    Idx idx;
  };
  for (const Case& k : std::vector<Case>{
           {{5}, Int(2)},
           {{5}, Int(-1)},
           {{5}, Slice(1, 4)},
           {{6}, Slice(kNone, kNone, -1)},
           {{7}, Slice(-1, 0, -2)},
           {{7}, Slice(1, kNone, 3)},
           {{4, 5}, Int(1)},
           {{4, 5}, Cat({Slice(), Int(3)})},
           {{4, 5}, Cat({Slice(3, 0, -1), Slice(kNone, kNone, 2)})},
           {{3, 4, 5}, Cat({Int(1), Slice(kNone, kNone, 2), Int(-2)})},
           {{3, 4, 5}, Cat({Slice(1, 3), Slice(), Slice(-3, -1)})},
           {{4, 5}, Slice(2, 2)},  // empty
       }) {
    GradCheck c;
    c.inputs = {RandomTensor(k.shape, 1)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      return Sqr(b, b.Apply("subtensor", {x[0]}, {{"idx_list", k.idx}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

TEST(SubtensorGrad, SymbolicIndicesAndFloat32) {
  // x[i, a:b:-1] with i, a, b integer inputs (no gradient).
  GradCheck c;
  c.inputs = {F32(RandomTensor({3, 6}, 2)), Ints({}, {-2}), Ints({}, {4}), Ints({}, {0})};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("subtensor", {x[0], x[1], x[2], x[3]},
                          {{"idx_list", Cat({Int(kSym), Slice(kSym, kSym, -1)})}}));
  };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
}

// ---- inc_subtensor ----

TEST(SubtensorGrad, IncAndSet) {
  struct Case {
    runtime::Shape x, y;
    Idx idx;
  };
  for (bool set : {false, true}) {
    for (const Case& k : std::vector<Case>{
             {{5}, {3}, Slice(1, 4)},
             {{5}, {}, Int(2)},
             {{5}, {}, Slice(kNone, kNone, 2)},  // a scalar broadcast over the region
             {{4, 5}, {5}, Int(1)},
             {{4, 5}, {2, 3}, Cat({Slice(3, 0, -2), Slice(1, 4)})},
             {{4, 5}, {3}, Cat({Slice(1, 3), Slice(kNone, 3)})},     // y broadcast over rows
             {{4, 5}, {2, 1}, Cat({Slice(1, 3), Slice(kNone, 3)})},  // size-1 dim broadcast
             {{3, 4, 5}, {4}, Cat({Int(1), Slice(), Int(-1)})},
         }) {
      GradCheck c;
      c.inputs = {RandomTensor(k.x, 3), RandomTensor(k.y, 4)};
      c.build = [&k, set](NodeBuilder& b, const Inputs& x) {
        return Sqr(b, Inc(b, "inc_subtensor", {x[0], x[1]}, k.idx, set));
      };
      ExpectGradMatchesFiniteDifferences(c);
    }
  }
  // Symbolic bounds, float32, an integer y (promoted to x's dtype; no gradient).
  GradCheck c;
  c.inputs = {F32(RandomTensor({6}, 5)), F32(RandomTensor({2}, 6)), Ints({}, {1})};
  c.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, Inc(b, "inc_subtensor", {x[0], x[1], x[2]}, Slice(kSym, kNone, 3), false));
  };
  c.eps = 1e-3, c.rtol = 1e-2, c.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(c);
  GradCheck i;
  i.inputs = {RandomTensor({4}, 7), Ints({2}, {3, -5})};
  i.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, Inc(b, "inc_subtensor", {x[0], x[1]}, Slice(1, 3), true));
  };
  ExpectGradMatchesFiniteDifferences(i);
}

// ---- advanced_subtensor1 and its inc ----

TEST(SubtensorGrad, AdvancedSubtensor1) {
  struct Case {
    runtime::Shape x;
    std::vector<int64_t> ilist;
  };
  for (const Case& k : std::vector<Case>{{{5}, {0, 2, 0, 4, 2, 2}},  // repeats accumulate
                                         {{4, 3}, {3, -1, 0, 1, 3}},
                                         {{3, 2, 2}, {2, 0}},
                                         {{4}, {}}}) {
    GradCheck c;
    c.inputs = {RandomTensor(k.x, 8)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      Variable* il = IntConst(b, {static_cast<int64_t>(k.ilist.size())}, k.ilist);
      return Sqr(b, b.Apply("advanced_subtensor1", {x[0], il}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck f;  // a symbolic index vector, float32
  f.inputs = {F32(RandomTensor({4, 2}, 9)), Ints({3}, {1, 1, 3})};
  f.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("advanced_subtensor1", {x[0], x[1]}));
  };
  f.eps = 1e-3, f.rtol = 1e-2, f.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(f);
}

TEST(SubtensorGrad, AdvancedIncSubtensor1) {
  struct Case {
    runtime::Shape x, y;
    std::vector<int64_t> ilist;
    bool set;
  };
  for (const Case& k : std::vector<Case>{
           {{5}, {4}, {1, 3, 1, 1}, false},  // repeats accumulate
           {{4, 3}, {3, 3}, {2, 0, 2}, false},
           {{4, 3}, {3}, {2, 0, 2}, false},  // one row added at every index
           {{4, 3}, {}, {3, 3}, false},
           {{4, 3}, {2, 1}, {-1, 0}, false},
           {{5}, {3}, {4, 0, 2}, true},  // set, distinct indices
           {{4, 3}, {2, 3}, {1, 3}, true},
           {{4, 3}, {3}, {0, 2}, true},
           {{4, 3}, {}, {1}, true},
       }) {
    GradCheck c;
    c.inputs = {RandomTensor(k.x, 10), RandomTensor(k.y, 11)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      Variable* il = IntConst(b, {static_cast<int64_t>(k.ilist.size())}, k.ilist);
      return Sqr(b, Inc(b, "advanced_inc_subtensor1", {x[0], x[1], il}, {}, k.set));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
}

// Set mode with a repeated index: as Theano, every copy of y gets gz at that place (gy =
// gz[ilist]), though only the last write reaches the output; x gets 0 there.
TEST(SubtensorGrad, AdvancedSetSubtensor1RepeatedIndexFollowsTheano) {
  auto g = std::make_unique<ir::Graph>();
  Variable* x = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "y");
  g->inputs() = {x, y};
  NodeBuilder b(*g);
  Variable* il = IntConst(b, {2}, {1, 1});
  Variable* z = Inc(b, "advanced_inc_subtensor1", {x, y, il}, {}, true);
  Variable* w = b.graph().AddConstant(RandomTensor({3}, 12), ir::Type::Of(DType::kFloat64, 1));
  grad::GradRequest req;
  req.cost = b.Sum(b.Mul(z, w), {0});
  req.wrt = {x, y};
  auto r = grad::Grad(*g, req, [](const Variable* v) { return v->DisplayName(); });
  ASSERT_TRUE(r.ok()) << r.status();
  Tensor wv = RandomTensor({3}, 12);
  auto out = grad::testing::Evaluate(std::move(g), r->gradients,
                                     {RandomTensor({3}, 13), RandomTensor({2}, 14)});
  ASSERT_TRUE(out.ok()) << out.status();
  const double* w_ = wv.data<double>();
  const double* gx = (*out)[0].data<double>();
  const double* gy = (*out)[1].data<double>();
  EXPECT_EQ(gx[0], w_[0]);
  EXPECT_EQ(gx[1], 0.0);
  EXPECT_EQ(gx[2], w_[2]);
  EXPECT_EQ(gy[0], w_[1]);
  EXPECT_EQ(gy[1], w_[1]);
}

// ---- advanced_subtensor and its inc ----

// An index case: x's shape, the idx_list and the index inputs (built as constants).
struct AdvCase {
  runtime::Shape x;
  Idx idx;
  std::function<Inputs(NodeBuilder&)> indices;
  runtime::Shape y;  // for the inc tests
};

std::vector<AdvCase> AdvancedCases(bool with_repeats) {
  std::vector<AdvCase> cases = {
      // x[[0, 2], [1, 1]]: two adjacent arrays.
      {{3, 4},
       Cat({Array(), Array()}),
       [](NodeBuilder& b) {
         return Inputs{IntConst(b, {2}, {0, 2}), IntConst(b, {2}, {1, 1})};
       },
       {2}},
      // x[:, [2, 0]]: a slice then an array.
      {{3, 4},
       Cat({Slice(), Array()}),
       [](NodeBuilder& b) {
         return Inputs{IntConst(b, {2}, {2, 0})};
       },
       {3, 2}},
      // x[[0, 1], ::-1, [1, 0]]: arrays apart (their dims come first), a stepped slice.
      {{2, 3, 2},
       Cat({Array(), Slice(kNone, kNone, -1), Array()}),
       [](NodeBuilder& b) {
         return Inputs{IntConst(b, {2}, {0, 1}), IntConst(b, {2}, {1, 0})};
       },
       {2, 3}},
      // x[[[0], [2]], [1, 3]]: index arrays broadcast to (2, 2).
      {{3, 4},
       Cat({Array(), Array()}),
       [](NodeBuilder& b) {
         return Inputs{IntConst(b, {2, 1}, {0, 2}), IntConst(b, {2}, {1, 3})};
       },
       {2, 2}},
      // x[mask] with a 2-d mask.
      {{2, 3},
       Array(),
       [](NodeBuilder& b) {
         return Inputs{Mask(b, {2, 3}, {true, false, true, false, false, true})};
       },
       {3}},
      // x[1:, mask] with a mask on the last dim.
      {{3, 4},
       Cat({Slice(1), Array()}),
       [](NodeBuilder& b) {
         return Inputs{Mask(b, {4}, {false, true, true, false})};
       },
       {2, 2}},
      // x[mask] on the leading dim of a 3-d x, a 0-d y broadcast.
      {{3, 2, 2},
       Array(),
       [](NodeBuilder& b) {
         return Inputs{Mask(b, {3}, {true, false, true})};
       },
       {}},
  };
  if (with_repeats) {
    // x[[1, 1, 0], 2:0:-1]: a repeated index and a negative-step slice.
    cases.push_back({{3, 4},
                     Cat({Array(), Slice(2, 0, -1)}),
                     [](NodeBuilder& b) {
                       return Inputs{IntConst(b, {3}, {1, 1, 0})};
                     },
                     {3, 2}});
    // x[[[0, 2], [2, 2]]] with y broadcast along the index dims.
    cases.push_back({{3, 2},
                     Array(),
                     [](NodeBuilder& b) {
                       return Inputs{IntConst(b, {2, 2}, {0, 2, 2, 2})};
                     },
                     {2}});
  }
  return cases;
}

TEST(SubtensorGrad, AdvancedSubtensor) {
  for (const AdvCase& k : AdvancedCases(true)) {
    GradCheck c;
    c.inputs = {RandomTensor(k.x, 15)};
    c.build = [&k](NodeBuilder& b, const Inputs& x) {
      Inputs in{x[0]};
      for (Variable* i : k.indices(b)) in.push_back(i);
      return Sqr(b, b.Apply("advanced_subtensor", in, {{"idx_list", k.idx}}));
    };
    ExpectGradMatchesFiniteDifferences(c);
  }
  GradCheck f;  // a symbolic index array, float32
  f.inputs = {F32(RandomTensor({3, 4}, 16)), Ints({3}, {3, 0, 3})};
  f.build = [](NodeBuilder& b, const Inputs& x) {
    return Sqr(b, b.Apply("advanced_subtensor", {x[0], x[1]},
                          {{"idx_list", Cat({Slice(kNone, kNone, 2), Array()})}}));
  };
  f.eps = 1e-3, f.rtol = 1e-2, f.atol = 1e-4;
  ExpectGradMatchesFiniteDifferences(f);
}

TEST(SubtensorGrad, AdvancedIncSubtensor) {
  for (bool set : {false, true}) {
    // Set mode only without repeated indices (there the gradient follows Theano, not the
    // last-write-wins function).
    for (const AdvCase& k : AdvancedCases(!set)) {
      GradCheck c;
      c.inputs = {RandomTensor(k.x, 17), RandomTensor(k.y, 18)};
      c.build = [&k, set](NodeBuilder& b, const Inputs& x) {
        Inputs in{x[0], x[1]};
        for (Variable* i : k.indices(b)) in.push_back(i);
        return Sqr(b, Inc(b, "advanced_inc_subtensor", in, k.idx, set));
      };
      ExpectGradMatchesFiniteDifferences(c);
    }
  }
}

// ---- second derivatives ----

TEST(SubtensorGrad, SecondDerivatives) {
  using F = grad::testing::UnaryBuildFn;
  std::vector<F> fs = {
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("subtensor", {x}, {{"idx_list", Cat({Slice(2, 0, -1), Int(1)})}});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("advanced_subtensor1", {x, IntConst(b, {3}, {1, 1, 2})});
      },
      [](NodeBuilder& b, Variable* x) {
        return b.Apply("advanced_subtensor", {x, IntConst(b, {2}, {2, 2})},
                       {{"idx_list", Cat({Slice(), Array()})}});
      },
      [](NodeBuilder& b, Variable* x) {
        // x with its first row set to its last row's cube, plus x[0:2] added at [1:3].
        Variable* last = b.Apply("subtensor", {x}, {{"idx_list", Int(-1)}});
        Variable* set =
            Inc(b, "inc_subtensor", {x, b.Apply("mul", {last, last, last})}, Int(0), true);
        Variable* head = b.Apply("subtensor", {x}, {{"idx_list", Slice(0, 2)}});
        return Inc(b, "inc_subtensor", {set, head}, Slice(1, 3), false);
      },
      [](NodeBuilder& b, Variable* x) {
        Variable* rows = b.Apply("advanced_subtensor1", {x, IntConst(b, {2}, {0, 2})});
        return Inc(b, "advanced_inc_subtensor1", {x, b.Mul(rows, rows), IntConst(b, {2}, {1, 1})},
                   {}, false);
      },
  };
  grad::testing::ExpectSecondDerivativesMatch({3, 4}, 19, fs);
}

}  // namespace
}  // namespace tensord::ops
