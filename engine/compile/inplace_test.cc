// Inplace: which nodes the pass marks, which requests the builder keeps, that a donation really
// reuses the dead input's buffer, and that inputs, shared values and views are never overwritten.
#include "engine/passes/inplace.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/backends/cpu/provider.h"
#include "engine/compile/compiler.h"
#include "engine/compile/inplace_plan.h"
#include "engine/compile/modes.h"
#include "engine/ops/op_def.h"
#include "engine/passes/pass_testing.h"
#include "engine/passes/pipeline.h"

namespace tensord::compile {
namespace {

using passes::testing::MakeTensor;
using runtime::Tensor;
using V = std::vector<ir::Variable*>;
using B = ops::NodeBuilder;

int64_t Marked(const ir::Variable* v) {
  auto it = v->owner->attrs.find("inplace");
  return it == v->owner->attrs.end() ? -1 : std::get<int64_t>(it->second);
}

TEST(InplacePass, MarksTheLastReaderOfAComputedTemporary) {
  const ir::Type m = ir::Type::Of(DType::kFloat32, 2);
  V vars;
  auto built = passes::testing::Build({m, m}, [&](B& b, const V& in) {
    ir::Variable* e = b.Apply("exp", {in[0]});            // reads an input: never
    ir::Variable* l = b.Apply("log", {e});                // e is dead after it
    ir::Variable* s = b.Add(l, e);                        // ... no: e is read here too
    ir::Variable* t = b.Apply("add", {in[1], in[1], s});  // s at position 2 of a fold
    ir::Variable* r = b.Mul(t, b.Constant(2, DType::kFloat32));
    vars = {e, l, s, t, r};
    return V{r};
  });
  ASSERT_TRUE(passes::MakeInplacePass()->Run(*built.graph).ok());
  EXPECT_EQ(Marked(vars[0]), -1);  // exp(x0): x0 is the caller's
  EXPECT_EQ(Marked(vars[1]), -1);  // log(e): e is read again by the add
  EXPECT_EQ(Marked(vars[2]), 0);   // add(l, e): l is dead
  EXPECT_EQ(Marked(vars[3]), -1);  // s only at position 2, written before it is read
  EXPECT_EQ(Marked(vars[4]), 0);   // mul(t, 2)
}

TEST(InplacePass, LeavesOutputsBroadcastsAndGemmOperands) {
  const ir::Type m = ir::Type::Of(DType::kFloat64, 2);
  const ir::Type row{DType::kFloat64, {true, false}};
  V vars;
  auto built =
      passes::testing::Build({m, row, ir::Type::Scalar(DType::kFloat64)}, [&](B& b, const V& in) {
        ir::Variable* e = b.Apply("exp", {in[0]});
        ir::Variable* r = b.Apply("exp", {in[1]});  // a row
        ir::Variable* sum = b.Add(r, in[0]);        // r is broadcast: cannot hold the sum
        ir::Variable* g = b.Apply("gemm", {e, in[2], e, e, in[2]});  // z is also x: never
        ir::Variable* neg = b.Neg(e);                                // e is an output
        vars = {sum, g, neg};
        return V{e, sum, g, neg};
      });
  ASSERT_TRUE(passes::MakeInplacePass()->Run(*built.graph).ok());
  for (ir::Variable* v : vars) EXPECT_EQ(Marked(v), -1) << v->owner->op;
}

// Every other pass excluded: the graph is compiled as built, plus the inplace marks.
std::shared_ptr<Executable> Compile(passes::testing::Built built, bool inplace = true) {
  CompileOptions options;
  options.optimizer_excluding = passes::Pipeline::AllPassNames();
  if (inplace) std::erase(options.optimizer_excluding, std::string("inplace"));
  auto prepared = PrepareFunction(std::move(built.graph), {}, {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  EXPECT_TRUE(exe.ok()) << exe.status();
  return *exe;
}

void ExpectEqual(const Tensor& a, const Tensor& b) {
  ASSERT_EQ(a.shape(), b.shape());
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const double x = a.data<double>()[i], y = b.data<double>()[i];
    if (!(std::isnan(x) && std::isnan(y))) {
      ASSERT_EQ(x, y) << i;
    }
  }
}

TEST(Inplace, ViewsOfADonorKeepItAlive) {
  // b = neg(a) may overwrite a, but a transposed view of a is read after it.
  const ir::Type m = ir::Type::Of(DType::kFloat64, 2);
  auto build = [](B& b, const V& in) {
    ir::Variable* a = b.Apply("exp", {in[0]});
    ir::Variable* view = b.Dimshuffle(a, {1, 0});
    ir::Variable* neg = b.Neg(a);
    return V{neg, b.Add(view, b.Constant(1, DType::kFloat64))};
  };
  auto with = Compile(passes::testing::Build({m}, build));
  auto without = Compile(passes::testing::Build({m}, build), false);
  bool requested = false;
  for (const Instruction& ins : with->instructions()) requested |= ins.donate >= 0;
  EXPECT_TRUE(requested);
  Tensor x = MakeTensor(DType::kFloat64, {3, 4}, {0.5, -1, 2, 0});
  for (int run = 0; run < 3; ++run) {
    auto got = with->Run({x}, {});
    auto want = without->Run({x}, {});
    ASSERT_TRUE(got.ok() && want.ok());
    for (int k = 0; k < 2; ++k) ExpectEqual(want->outputs[k], got->outputs[k]);
  }
}

TEST(Inplace, NeverOverwritesInputsOrSharedValues) {
  // tanh(dot(x, W) + b) * 2, W shared and updated: the gemm pass makes gemm(b, 1, x, W, 1) and
  // the composite may take the gemm's buffer, never b's, x's or W's (without gemm_epilogue,
  // which would make the whole expression one dot_composite).
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "x");
  auto* bias = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "b");
  auto* w = g->AddShared(ir::Type::Of(DType::kFloat64, 2), "W", "W");
  g->inputs() = {x, bias};
  ops::NodeBuilder b(*g);
  ir::Variable* h = b.Apply("tanh", {b.Add(b.Apply("dot", {x, w}), bias)});
  ir::Variable* y = b.Mul(b.Apply("exp", {h}), b.Constant(2, DType::kFloat64));
  ir::Variable* w_new = b.Sub(w, b.Mul(b.Constant(0.5, DType::kFloat64), w));
  g->outputs() = {y};
  ASSERT_TRUE(b.status().ok());
  CompileOptions options;
  options.optimizer_excluding = {"gemm_epilogue"};
  auto prepared = PrepareFunction(std::move(g), {{w, w_new}}, {}, options);
  ASSERT_TRUE(prepared.ok()) << prepared.status();
  auto exe = BuildExecutable(*std::move(prepared));
  ASSERT_TRUE(exe.ok()) << exe.status();
  bool donating = false;
  for (const Instruction& ins : (*exe)->instructions()) donating |= ins.donate >= 0;
  EXPECT_TRUE(donating);

  Tensor xv = MakeTensor(DType::kFloat64, {2, 3}, {0.1, -0.2, 0.3, 0.4});
  Tensor bv = MakeTensor(DType::kFloat64, {2, 2}, {1, 2, 3, 4});
  Tensor wv = MakeTensor(DType::kFloat64, {3, 2}, {0.5, -0.5, 1});
  const Tensor x0 = MakeTensor(DType::kFloat64, {2, 3}, {0.1, -0.2, 0.3, 0.4});
  const Tensor b0 = MakeTensor(DType::kFloat64, {2, 2}, {1, 2, 3, 4});
  const Tensor w0 = MakeTensor(DType::kFloat64, {3, 2}, {0.5, -0.5, 1});
  Tensor shared = wv;
  for (int run = 0; run < 3; ++run) {
    auto r = (*exe)->Run({xv, bv}, {shared});
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectEqual(x0, xv);
    ExpectEqual(b0, bv);
    // Shared values are immutable: the update is a new tensor; the old one is unchanged.
    ExpectEqual(w0, wv);
    ASSERT_NE(r->updates[0].raw(), wv.raw());
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 2; ++j) {
        double d = bv.data<double>()[i * 2 + j];
        for (int k = 0; k < 3; ++k)
          d += xv.data<double>()[i * 3 + k] * wv.data<double>()[k * 2 + j];
        EXPECT_NEAR(r->outputs[0].data<double>()[i * 2 + j], std::exp(std::tanh(d)) * 2, 1e-12);
      }
    }
  }
}

// The mechanism itself: a donation hands the dead input's very buffer to the output.
TEST(Inplace, DonationReusesTheDeadInputsBuffer) {
  ir::Graph g;
  ops::NodeBuilder b(g);
  auto* a = g.AddInput(ir::Type::Of(DType::kFloat32, 2));
  auto* c = g.AddInput(ir::Type::Of(DType::kFloat32, 1));
  ir::Variable* sum = b.Add(a, c);
  ASSERT_TRUE(b.status().ok());
  Instruction ins;
  ins.kernel = *cpu::MakeNodeKernel(*sum->owner);
  ins.inputs = {0, 1};
  ins.outputs = {2};
  ins.donate = 0;
  std::vector<Tensor> slots(3);
  slots[0] = MakeTensor(DType::kFloat32, {2, 3}, {1, 2, 3, 4, 5, 6});
  slots[1] = MakeTensor(DType::kFloat32, {3}, {10, 20, 30});
  const void* donor = slots[0].raw();
  ASSERT_TRUE(TryDonate(ins, slots));
  EXPECT_EQ(slots[2].raw(), donor);
  const Tensor* in[] = {&slots[2], &slots[1]};
  Tensor* out[] = {&slots[2]};
  ASSERT_TRUE(ins.kernel->Run(in, out).ok());
  EXPECT_EQ(slots[2].raw(), donor);
  const float want[] = {11, 22, 33, 14, 25, 36};
  for (int i = 0; i < 6; ++i) EXPECT_EQ(slots[2].data<float>()[i], want[i]);

  // Refused: a second holder of the buffer, a strided view, an input that broadcasts it.
  slots[0] = MakeTensor(DType::kFloat32, {2, 3}, {1});
  Tensor holder = slots[0];
  EXPECT_FALSE(TryDonate(ins, slots));
  holder = Tensor();
  slots[0] = slots[0].StridedView({3, 2}, {1, 3}, 0);
  EXPECT_FALSE(TryDonate(ins, slots));
  slots[0] = MakeTensor(DType::kFloat32, {1, 3}, {1});
  slots[1] = MakeTensor(DType::kFloat32, {2, 3}, {1});
  EXPECT_FALSE(TryDonate(ins, slots));
  ins.donate_checks_aliasing = true;  // a kernel that handles it (composite, gemm) gets it
  EXPECT_TRUE(TryDonate(ins, slots));
}

TEST(Inplace, BuilderKeepsOnlyTemporaries) {
  std::vector<Instruction> list(4);
  list[0].inputs = {0};  // slot 0: an input
  list[0].outputs = {1};
  list[1].inputs = {1, 0};
  list[1].outputs = {2};
  list[1].donate = 0;  // slot 1: a temporary, last read here
  list[2].inputs = {2, 0};
  list[2].outputs = {3};
  list[2].donate = 1;  // slot 0 is protected
  list[3].inputs = {3, 2};
  list[3].outputs = {4};
  list[3].donate = 1;  // slot 2: its last read, but an output slot
  PlanDonations(list, {0, 2, 4});
  EXPECT_EQ(list[1].donate, 0);
  EXPECT_EQ(list[2].donate, -1);
  EXPECT_EQ(list[3].donate, -1);
  // A slot read again later is not a temporary yet.
  std::vector<Instruction> later(2);
  later[0].inputs = {5};
  later[0].outputs = {6};
  later[0].donate = 0;  // slot 5 has no producer
  later[1].inputs = {6, 6};
  later[1].outputs = {7};
  later[1].donate = 0;
  PlanDonations(later, {});
  EXPECT_EQ(later[0].donate, -1);
  EXPECT_EQ(later[1].donate, 0);
}

}  // namespace
}  // namespace tensord::compile
