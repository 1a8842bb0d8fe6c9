// The composite op against the unfused ops it replaces: every opcode bit for bit (NaN, inf,
// signed zeros), broadcasting, strided and negative-stride views, 0-d and empty shapes, chunk
// boundaries, aliasing of the output with an input, and validation of hostile programs.
#include "engine/backends/cpu/composite_kernel.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/provider.h"
#include "engine/passes/pass_testing.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

// A fusable op's opcode (its declaration's), as the program attribute holds it.
int64_t Op(const char* name) { return ops::composite::Opcode(name); }
using passes::testing::Build;
using passes::testing::EvaluateUnoptimized;
using passes::testing::MakeTensor;
using runtime::Tensor;

const std::vector<double> kValues = {-3.5, -1,  -0.5, -0.0, 0,        0.25,      0.5,   1,  2,
                                     3.5,  100, -100, NAN,  INFINITY, -INFINITY, 1e-30, 0.7};

ir::Attrs Attrs(DType dtype, std::vector<int64_t> program, std::vector<double> constants = {}) {
  ir::Attrs a{{"dtype", dtype}, {"program", std::move(program)}};
  if (!constants.empty()) a["constants"] = std::move(constants);
  return a;
}

std::vector<ir::Type> TypesOf(const std::vector<Tensor>& values) {
  std::vector<ir::Type> types;
  for (const Tensor& t : values) types.push_back(ir::Type::Of(t.dtype(), t.ndim()));
  return types;
}

Tensor Evaluate(const std::vector<Tensor>& inputs, const passes::testing::BuildFn& build) {
  auto built = Build(TypesOf(inputs), build);
  auto out = EvaluateUnoptimized(std::move(built.graph), inputs);
  EXPECT_TRUE(out.ok()) << out.status();
  return out.ok() ? (*out)[0] : Tensor();
}

// Same shape and the same values (as float64; NaN equals NaN, and -0 must stay -0).
void ExpectSame(const Tensor& want, const Tensor& got, const std::string& what) {
  ASSERT_EQ(want.shape(), got.shape()) << what;
  Tensor w, g;
  ASSERT_TRUE(CastInto(want, DType::kFloat64, w).ok());
  ASSERT_TRUE(CastInto(got, DType::kFloat64, g).ok());
  for (int64_t i = 0; i < w.num_elements(); ++i) {
    const double x = w.data<double>()[i], y = g.data<double>()[i];
    if (std::isnan(x) && std::isnan(y)) continue;
    ASSERT_EQ(x, y) << what << " element " << i;
    ASSERT_EQ(std::signbit(x), std::signbit(y)) << what << " element " << i;
  }
}

class EveryOpcode : public ::testing::TestWithParam<DType> {};

TEST_P(EveryOpcode, MatchesTheUnfusedOpBitForBit) {
  const DType t = GetParam();
  const int64_t n = static_cast<int64_t>(kValues.size());
  for (const ops::OpDef* def : ops::Registry::Global().All()) {
    if (def->FusionOpcode() < 0) continue;
    struct {
      int arity;
      std::string wire;
    } info{def->scalar->arity, def->name};
    std::vector<int64_t> program = {def->FusionOpcode(), -1, -1, -1};
    for (int k = 0; k < info.arity; ++k) program[1 + k] = k;
    // Two layouts: shapes (n,1,1), (n,1), (n) give every combination of the special values in
    // short rows; flat rows of 1000 (the values cycled, another phase per input) run through
    // full chunks, the vectorized path, and a tail.
    for (bool flat : {false, true}) {
      std::vector<Tensor> inputs;
      for (int k = 0; k < info.arity; ++k) {
        std::vector<double> values = kValues;
        std::rotate(values.begin(), values.begin() + (flat ? 5 : 3) * k, values.end());
        runtime::Shape shape(info.arity - k, 1);
        shape[0] = n;
        if (flat) {
          values.push_back(0.125 * (k + 1));  // 18 values: the phases drift across the row
          shape = {1000};
        }
        inputs.push_back(MakeTensor(t, shape, values));
      }
      Tensor want =
          Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
            return std::vector<ir::Variable*>{b.Apply(info.wire, in)};
          });
      Tensor got = Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
        return std::vector<ir::Variable*>{b.Apply("composite", in, Attrs(t, program))};
      });
      EXPECT_EQ(got.dtype(), t);
      ExpectSame(want, got, absl::StrCat(info.wire, flat ? " (flat)" : ""));
    }
  }
}

// Binary arithmetic with a broadcast operand or a literal reads it as a scalar (another loop):
// both orders (maximum and minimum treat NaN by position), full chunks and tails.
TEST_P(EveryOpcode, ScalarOperandsMatchBitForBit) {
  const DType t = GetParam();
  for (const char* wire : {"add", "sub", "mul", "true_div", "maximum", "minimum"}) {
    const int64_t op = Op(wire);
    for (double scalar : kValues) {
      for (bool first : {false, true}) {
        std::vector<Tensor> inputs = {MakeTensor(t, {3000}, kValues), MakeTensor(t, {}, {scalar})};
        const std::vector<int64_t> program = {int64_t(op), first ? 1 : 0, first ? 0 : 1, -1};
        Tensor want =
            Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
              return std::vector<ir::Variable*>{first ? b.Apply(wire, {in[1], in[0]})
                                                      : b.Apply(wire, {in[0], in[1]})};
            });
        Tensor got =
            Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
              return std::vector<ir::Variable*>{b.Apply("composite", in, Attrs(t, program))};
            });
        ExpectSame(want, got, absl::StrCat(wire, " with scalar ", scalar, first ? " first" : ""));
        // The same with the scalar as a literal of the program.
        const std::vector<int64_t> literal = {int64_t{ops::composite::kConst},
                                              0,
                                              -1,
                                              -1,
                                              int64_t(op),
                                              first ? 1 : 0,
                                              first ? 0 : 1,
                                              -1};
        got = Evaluate({inputs[0]}, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
          return std::vector<ir::Variable*>{b.Apply("composite", in, Attrs(t, literal, {scalar}))};
        });
        ExpectSame(want, got, absl::StrCat(wire, " with literal ", scalar, first ? " first" : ""));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Composite, EveryOpcode,
                         ::testing::Values(DType::kFloat32, DType::kFloat64));

// exp(a * b + 2) - tanh(c) / (a + 1.5), and Switch(GT(a, b), a, c) * 0.5: longer programs with
// literals, shared subexpressions and reused scratch slots.
std::vector<int64_t> LongProgram() {
  auto op = [](const char* name) { return name[0] == '#' ? int64_t{0} : Op(name); };
  return {
      op("mul"),      0,  1,  -1,  // r3 = a * b
      op("#"),        0,  -1, -1,  // r4 = 2
      op("add"),      3,  4,  -1,  // r5
      op("exp"),      5,  -1, -1,  // r6
      op("tanh"),     2,  -1, -1,  // r7
      op("#"),        1,  -1, -1,  // r8 = 1.5
      op("add"),      0,  8,  -1,  // r9
      op("true_div"), 7,  9,  -1,  // r10
      op("sub"),      6,  10, -1,  // r11
      op("gt"),       0,  1,  -1,  // r12
      op("switch"),   12, 0,  2,   // r13
      op("#"),        2,  -1, -1,  // r14 = 0.5
      op("mul"),      13, 14, -1,  // r15
      op("add"),      11, 15, -1,  // r16: the output
  };
}

std::vector<ir::Variable*> LongUnfused(ops::NodeBuilder& b, const std::vector<ir::Variable*>& in,
                                       DType t) {
  ir::Variable *a = in[0], *bb = in[1], *c = in[2];
  ir::Variable* left = b.Sub(b.Apply("exp", {b.Add(b.Mul(a, bb), b.Constant(2, t))}),
                             b.Div(b.Apply("tanh", {c}), b.Add(a, b.Constant(1.5, t))));
  ir::Variable* right = b.Mul(b.Switch(b.Apply("gt", {a, bb}), a, c), b.Constant(0.5, t));
  return {b.Add(left, right)};
}

void ExpectLongProgramMatches(DType t, const std::vector<Tensor>& inputs) {
  Tensor want = Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
    return LongUnfused(b, in, t);
  });
  Tensor got = Evaluate(inputs, [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
    return std::vector<ir::Variable*>{
        b.Apply("composite", in, Attrs(t, LongProgram(), {2, 1.5, 0.5}))};
  });
  ExpectSame(want, got, "long program");
}

std::vector<double> Ramp(int n, double scale) {
  std::vector<double> v(n);
  for (int i = 0; i < n; ++i) v[i] = std::sin(i * 0.37) * scale;
  return v;
}

TEST(Composite, LongProgramAcrossChunksAndBroadcasts) {
  for (DType t : {DType::kFloat32, DType::kFloat64}) {
    // 2 x 5 x 301 elements: a per-row operand (5, 1) over rows shorter than a chunk.
    ExpectLongProgramMatches(
        t, {MakeTensor(t, {2, 5, 301}, Ramp(3010, 3)), MakeTensor(t, {5, 1}, Ramp(5, 2)),
            MakeTensor(t, {301}, Ramp(301, 1))});
    // Rows longer than a chunk (1,024) and not a multiple of it, and rows of 10 (a softmax's),
    // with a per-row operand c that tanh and switch read from its spread slot (binary ops read
    // it as a scalar): its value is spread anew for each row, as far as the row reaches.
    ExpectLongProgramMatches(
        t, {MakeTensor(t, {3, 2500}, Ramp(7500, 3)), MakeTensor(t, {2500}, Ramp(2500, 2)),
            MakeTensor(t, {3, 1}, Ramp(3, 1))});
    ExpectLongProgramMatches(
        t, {MakeTensor(t, {256, 10}, Ramp(2560, 3)), MakeTensor(t, {10}, Ramp(10, 2)),
            MakeTensor(t, {256, 1}, Ramp(256, 1))});
    // 0-d inputs, and an empty broadcast.
    ExpectLongProgramMatches(
        t, {MakeTensor(t, {}, {0.3}), MakeTensor(t, {}, {-0.2}), MakeTensor(t, {}, {1.7})});
    ExpectLongProgramMatches(
        t, {MakeTensor(t, {0, 3}, {1}), MakeTensor(t, {3}, {1, 2, 3}), MakeTensor(t, {1, 1}, {2})});
  }
}

// A big output's rows split over the intra-op threads (ForEachRowIn): each range's operand and
// output offsets. The same graph on 4 threads and on 1 (one range) gives the same bits, for a
// composite and for lone ops: broadcast rows and columns, a transposed operand, a bool output,
// switch's three operands.
TEST(Composite, AndLoneOpsGiveTheSameBitsSplitOverThreadsAsWhole) {
  const DType t = DType::kFloat32;
  const std::vector<Tensor> inputs = {
      MakeTensor(t, {300, 257}, Ramp(300 * 257, 3)), MakeTensor(t, {257}, Ramp(257, 2)),
      MakeTensor(t, {300, 1}, Ramp(300, 1)), MakeTensor(t, {257, 300}, Ramp(257 * 300, 2))};
  auto run = [&](int threads) {
    runtime::SetIntraOpThreads(threads);
    auto built =
        Build(TypesOf(inputs), [&](ops::NodeBuilder& b, const std::vector<ir::Variable*>& in) {
          ir::Variable* transposed = b.Dimshuffle(in[3], {1, 0});
          return std::vector<ir::Variable*>{
              b.Apply("composite", {in[0], in[1], in[2]}, Attrs(t, LongProgram(), {2, 1.5, 0.5})),
              b.Apply("maximum", {in[0], in[1]}), b.Apply("gt", {transposed, in[2]}),
              b.Switch(b.Apply("gt", {in[0], in[1]}), transposed, in[2])};
        });
    auto out = EvaluateUnoptimized(std::move(built.graph), inputs);
    runtime::SetIntraOpThreads(0);  // back to the default
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? *out : std::vector<Tensor>{};
  };
  const std::vector<Tensor> whole = run(1), split = run(4);
  ASSERT_EQ(whole.size(), 4u);
  ASSERT_EQ(split.size(), 4u);
  for (size_t i = 0; i < whole.size(); ++i)
    ExpectSame(whole[i], split[i], "output " + std::to_string(i));
}

TEST(Composite, StridedAndNegativeStrideViews) {
  const DType t = DType::kFloat32;
  Tensor base = MakeTensor(t, {40, 30}, Ramp(1200, 2));
  // A transposed view (30, 40), a reversed row view and a column with gaps.
  Tensor transposed = base.StridedView({30, 40}, {1, 30}, 0);
  Tensor reversed = base.StridedView({40}, {-1}, 39);
  Tensor column = base.StridedView({30, 1}, {40, 0}, 7);
  ExpectLongProgramMatches(t, {transposed, reversed, column});
}

// The kernel may get the same Tensor object as an input and as its output (a donated buffer).
TEST(Composite, OutputAliasingAnInput) {
  const DType t = DType::kFloat64;
  ir::Graph g;
  ops::NodeBuilder b(g);
  auto* x = g.AddInput(ir::Type::Of(t, 2), "x");
  auto* y = g.AddInput(ir::Type::Of(t, 1), "y");
  // (x + y) * x
  ir::Variable* out =
      b.Apply("composite", {x, y}, Attrs(t, {Op("add"), 0, 1, -1, Op("mul"), 2, 0, -1}));
  ASSERT_TRUE(b.status().ok()) << b.status();
  auto kernel = cpu::MakeNodeKernel(*out->owner);
  ASSERT_TRUE(kernel.ok());

  // Same shape: computed in place, in the same buffer.
  Tensor xy = MakeTensor(t, {3, 600}, Ramp(1800, 1));
  Tensor yv = MakeTensor(t, {600}, Ramp(600, 2));
  std::vector<double> want(1800);
  for (int i = 0; i < 1800; ++i) {
    want[i] = (xy.data<double>()[i] + yv.data<double>()[i % 600]) * xy.data<double>()[i];
  }
  const void* buffer = xy.raw();
  const Tensor* in[] = {&xy, &yv};
  Tensor* outs[] = {&xy};
  ASSERT_TRUE((*kernel)->Run(in, outs).ok());
  EXPECT_EQ(xy.raw(), buffer);
  for (int i = 0; i < 1800; ++i) ASSERT_EQ(xy.data<double>()[i], want[i]);

  // The aliased input is smaller than the output: it must survive, the output gets a new buffer.
  Tensor small = MakeTensor(t, {1, 1}, {5});
  Tensor col = MakeTensor(t, {3}, {10, 20, 30});
  Tensor alias = small;  // another handle on the same buffer, as a view elsewhere would be
  const Tensor* in2[] = {&small, &col};
  Tensor* outs2[] = {&small};
  ASSERT_TRUE((*kernel)->Run(in2, outs2).ok());
  ExpectSame(MakeTensor(t, {1, 3}, {75, 125, 175}), small, "broadcast alias");
  EXPECT_NE(small.raw(), alias.raw());
  EXPECT_EQ(alias.data<double>()[0], 5);  // untouched
}

TEST(Composite, FillModelIsReadForItsShapeOnly) {
  // second(m, x) * 2 with an int32 model: the model is not cast (not read), only broadcast.
  ir::Graph g;
  ops::NodeBuilder b(g);
  auto* m = g.AddInput(ir::Type::Of(DType::kInt32, 2), "m");
  auto* x = g.AddInput(ir::Type::Of(DType::kFloat32, 1), "x");
  ir::Variable* out = b.Apply(
      "composite", {m, x},
      Attrs(DType::kFloat32,
            {Op("fill"), 0, 1, -1, int64_t{ops::composite::kConst}, 0, -1, -1, Op("mul"), 2, 3, -1},
            {2}));
  ASSERT_TRUE(b.status().ok()) << b.status();
  auto wanted = out->owner->def->input_dtypes(*out->owner);
  EXPECT_FALSE(wanted[0].has_value());
  EXPECT_EQ(wanted[1], DType::kFloat32);
  g.inputs() = {m, x};
  g.outputs() = {out};
  auto graph = std::make_unique<ir::Graph>(std::move(g));
  auto r = EvaluateUnoptimized(std::move(graph), {MakeTensor(DType::kInt32, {2, 3}, {7}),
                                                  MakeTensor(DType::kFloat32, {3}, {1, 2, 3})});
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectSame(MakeTensor(DType::kFloat32, {2, 3}, {2, 4, 6}), (*r)[0], "fill");
}

TEST(Composite, RendersTheanoNames) {
  ops::composite::Program p;
  p.num_inputs = 2;
  p.code = {{int(Op("add")), {0, 1, -1}}, {int(Op("mul")), {2, 0, -1}}};
  EXPECT_EQ(ops::composite::RenderExpr(p), "Composite{((i0 + i1) * i0)}");
  p.constants = {2};
  p.code = {{ops::composite::kConst, {0, -1, -1}},
            {int(Op("gt")), {0, 2, -1}},
            {int(Op("switch")), {3, 0, 1}}};
  EXPECT_EQ(ops::composite::RenderExpr(p), "Composite{Switch(GT(i0, 2), i0, i1)}");
}

TEST(Composite, RefusesMalformedPrograms) {
  ir::Graph g;
  auto* x = g.AddInput(ir::Type::Of(DType::kFloat32, 1), "x");
  auto infer = [&](ir::Attrs attrs) {
    ir::Apply probe{"composite", std::move(attrs), {x}, {}, nullptr};
    std::vector<ir::Type> types;
    return ops::ResolveAndInfer(probe, &types);
  };
  const int64_t exp = Op("exp"), add = Op("add");
  EXPECT_TRUE(infer(Attrs(DType::kFloat32, {exp, 0, -1, -1})).ok());
  const std::vector<std::pair<ir::Attrs, std::string>> bad = {
      {Attrs(DType::kInt32, {exp, 0, -1, -1}), "float32 or float64"},
      {Attrs(DType::kFloat32, {}), "four ints"},
      {Attrs(DType::kFloat32, {exp, 0, -1}), "four ints"},
      {Attrs(DType::kFloat32, {999, 0, -1, -1}), "unknown opcode"},
      {Attrs(DType::kFloat32, {-1, 0, -1, -1}), "unknown opcode"},
      {Attrs(DType::kFloat32, {exp, 1, -1, -1}), "before it is defined"},
      {Attrs(DType::kFloat32, {exp, -5, -1, -1}), "before it is defined"},
      {Attrs(DType::kFloat32, {exp, 0, 0, -1}), "must be -1"},
      {Attrs(DType::kFloat32, {add, 0, 2, -1}), "before it is defined"},
      {Attrs(DType::kFloat32, {int64_t{ops::composite::kConst}, 3, -1, -1}, {1}), "constant 3"},
      {{{"dtype", DType::kFloat32}}, "program"},
  };
  for (const auto& [attrs, message] : bad) {
    absl::Status s = infer(attrs);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << message;
    EXPECT_NE(s.message().find(message), std::string::npos) << s.message();
  }
  // Limits that bound the kernel's scratch space.
  ir::Apply many{"composite",
                 Attrs(DType::kFloat32, {exp, 0, -1, -1}),
                 std::vector<ir::Variable*>(ops::composite::kMaxInputs + 1, x),
                 {},
                 nullptr};
  std::vector<ir::Type> types;
  EXPECT_NE(ops::ResolveAndInfer(many, &types).message().find("inputs"), std::string::npos);
  std::vector<int64_t> chain;
  for (int i = 0; i <= ops::composite::kMaxInstructions; ++i)
    chain.insert(chain.end(), {exp, i, -1, -1});
  EXPECT_NE(infer(Attrs(DType::kFloat32, chain)).message().find("instructions"), std::string::npos);
}

}  // namespace
}  // namespace tensord::cpu
