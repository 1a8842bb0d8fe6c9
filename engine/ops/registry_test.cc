#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "engine/backends/cpu/provider.h"
#include "engine/ops/op_def.h"

namespace tensord::ops {
namespace {

// The contract every op row must meet (DESIGN.md §5).
TEST(Registry, EveryOpIsComplete) {
  auto all = Registry::Global().All();
  ASSERT_FALSE(all.empty());
  for (const OpDef* d : all) {
    SCOPED_TRACE(d->name);
    EXPECT_TRUE(static_cast<bool>(d->infer_types));
    // Ops with bodies get their kernel from the compiler (engine/compile/scan_kernel.h).
    EXPECT_NE(cpu::Supports(*d), d->num_bodies > 0);
    EXPECT_FALSE(d->doc.empty());
    EXPECT_GE(d->min_inputs, 0);
  }
}

// Composite opcodes are wire numbers (a client may send a composite program): the ones in use
// when they became declarations (each op's ElementwiseSpec::opcode) never change. New fusable
// ops take new numbers and need not be listed here.
TEST(Registry, CompositeOpcodesNeverChange) {
  const std::vector<std::string> by_opcode = {"",
                                              "add",
                                              "sub",
                                              "mul",
                                              "true_div",
                                              "pow",
                                              "neg",
                                              "exp",
                                              "log",
                                              "log1p",
                                              "expm1",
                                              "log2",
                                              "log10",
                                              "sqrt",
                                              "sqr",
                                              "abs",
                                              "sgn",
                                              "maximum",
                                              "minimum",
                                              "clip",
                                              "tanh",
                                              "sigmoid",
                                              "softplus",
                                              "sin",
                                              "cos",
                                              "tan",
                                              "arcsin",
                                              "arccos",
                                              "arctan",
                                              "sinh",
                                              "cosh",
                                              "erf",
                                              "erfc",
                                              "floor",
                                              "ceil",
                                              "trunc",
                                              "round_half_to_even",
                                              "round_half_away_from_zero",
                                              "arctan2",
                                              "switch",
                                              "gt",
                                              "lt",
                                              "ge",
                                              "le",
                                              "eq",
                                              "neq",
                                              "isnan",
                                              "isinf",
                                              "fill"};
  for (size_t opcode = 1; opcode < by_opcode.size(); ++opcode) {
    const OpDef* d = Registry::Global().Find(by_opcode[opcode]);
    ASSERT_NE(d, nullptr) << by_opcode[opcode];
    EXPECT_EQ(d->FusionOpcode(), static_cast<int>(opcode)) << by_opcode[opcode];
    EXPECT_EQ(Registry::Global().FindByOpcode(static_cast<int>(opcode)), d);
  }
  EXPECT_EQ(Registry::Global().FindByOpcode(0), nullptr);  // 0 loads a constant
}

// Elementwise declarations carry everything derived tables need.
TEST(Registry, ElementwiseOpsDeclareTheirTypingAndNames) {
  for (const OpDef* d : Registry::Global().All()) {
    SCOPED_TRACE(d->name);
    if (d->scalar) {
      EXPECT_TRUE(d->Has(kTagElementwise));
      EXPECT_FALSE(d->theano.name.empty());
      EXPECT_FALSE(d->theano.scalar.empty());
      if (d->FusionOpcode() >= 0) EXPECT_FALSE(d->scalar->format.empty());
      // Every dtype the type rule can produce has a loop (float-only ops upgrade to floats).
      for (DType t : {DType::kFloat32, DType::kFloat64}) EXPECT_NE(d->scalar->Loop(t), nullptr);
      if (d->typing && d->typing->rule != ElemDTypeRule::kUpgradeToFloat) {
        EXPECT_NE(d->scalar->Loop(DType::kInt32), nullptr);
      }
    }
  }
}

TEST(Registry, BodiesOnlyWhereTheOpTakesThem) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat64, 1), "x");
  ir::Apply add{"add", {}, {x, x}, {}, nullptr, {std::make_shared<const ir::Graph>()}};
  std::vector<ir::Type> types;
  absl::Status st = ResolveAndInfer(add, &types);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("op 'add' takes 0 bodies (inner graphs), got 1"), std::string::npos)
      << st;
  ir::Apply scan{"scan", {}, {x}, {}, nullptr, {}};
  st = ResolveAndInfer(scan, &types);
  EXPECT_NE(st.message().find("op 'scan' takes 1 bodies (inner graphs), got 0"), std::string::npos)
      << st;
}

// DESIGN.md §5: every op has a grad rule or is declared non-differentiable, never both.
TEST(Registry, EveryOpHasAGradRuleOrIsDeclaredNonDifferentiable) {
  for (const OpDef* d : Registry::Global().All()) {
    EXPECT_NE(static_cast<bool>(d->grad), !d->differentiable)
        << d->name
        << (d->differentiable ? " has no grad rule" : " is non-differentiable but has one");
  }
}

// A node carrying an attribute its op does not declare is refused, naming both; the inplace
// pass's markers are accepted on any op.
TEST(Registry, RefusesAttributesTheOpDoesNotTake) {
  ir::Graph g;
  ir::Variable* x = g.AddInput(ir::Type::Of(DType::kFloat64, 2), "x");
  std::vector<ir::Type> types;
  ir::Apply sum{"sum", {{"axes", std::vector<int64_t>{0}}}, {x}, {}, nullptr};
  absl::Status st = ResolveAndInfer(sum, &types);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(st.message(), "op 'sum' has no attribute 'axes' (it takes axis, dtype)");
  ir::Apply add{"add", {{"axis", int64_t{0}}}, {x, x}, {}, nullptr};
  EXPECT_EQ(ResolveAndInfer(add, &types).message(),
            "op 'add' has no attribute 'axis' (it takes none)");
  ir::Apply inplace{"add", {{"inplace", int64_t{0}}}, {x, x}, {}, nullptr};
  EXPECT_TRUE(ResolveAndInfer(inplace, &types).ok());
}

// Registry::Add enforces the same when the registry is built: an op declaring neither aborts.
TEST(RegistryDeathTest, AnOpWithoutGradRuleOrNonDifferentiableIsRefused) {
  OpDef d = MakeOpDef("no_grad_said", 1, 1, "", nullptr, kNotDifferentiable);
  d.differentiable = true;  // as if the declaration forgot its rule
  Registry r;
  EXPECT_DEATH(r.Add(std::move(d)), "op 'no_grad_said' must have either a grad rule");
}

// The ops whose output shapes only running them tells (data-dependent sizes, control flow);
// every other op declares a shape rule. A new op joins this list only by a decision.
TEST(Registry, OpsWithoutShapeRule) {
  std::vector<std::string> without;
  for (const OpDef* d : Registry::Global().All())
    if (!d->infer_shape) without.push_back(d->name);
  EXPECT_EQ(absl::StrJoin(without, " "),
            "advanced_subtensor arange ifelse mrg_uniform random_binomial random_choice "
            "random_multinomial random_normal random_permutation scan scan_grad "
            "sparse_eliminate_zeros sparse_from_dense sparse_union subtensor");
}

TEST(Registry, HasTheSkeletonOps) {
  for (const char* name : {"add", "sub", "mul", "true_div", "neg", "exp", "log", "pow", "dot",
                           "sum", "max", "reshape", "dimshuffle", "cast", "fill", "alloc"}) {
    EXPECT_NE(Registry::Global().Find(name), nullptr) << name;
  }
  EXPECT_EQ(Registry::Global().Find("no_such_op"), nullptr);
}

}  // namespace
}  // namespace tensord::ops
