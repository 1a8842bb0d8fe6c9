#include "engine/passes/rule_set.h"

#include <gtest/gtest.h>

#include "engine/frontend/verifier.h"
#include "engine/passes/pass_testing.h"
#include "engine/passes/rewrite_util.h"

namespace tensord::passes {
namespace {

using testing::Build;
using testing::Expr;
using testing::Exprs;
using testing::MakeTensor;

const ir::Type kVec = ir::Type::Of(DType::kFloat64, 1);

ir::Variable* Exp(ops::NodeBuilder& b, ir::Variable* x) { return b.Apply("exp", {x}); }

// neg(neg(x)) -> x
Rule DoubleNeg() {
  return {"neg", "neg(neg(x)) -> x", [](RuleContext& b, const ir::Apply& n) -> ir::Variable* {
            const ir::Apply* inner = ProducedBy(n.inputs[0], "neg");
            return inner ? inner->inputs[0] : nullptr;
          }};
}

TEST(RuleSetTest, AppliesRulesToAFixpoint) {
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Exp(b, b.Neg(b.Neg(b.Neg(b.Neg(in[0])))))};
  });
  RuleSet rules("test", {DoubleNeg()});
  auto changed = rules.Run(*built.graph);
  ASSERT_TRUE(changed.ok()) << changed.status();
  EXPECT_TRUE(*changed);
  EXPECT_TRUE(ir::Verify(*built.graph).ok());
  EXPECT_EQ(Exprs(*built.graph), "exp(x0)");
  EXPECT_EQ(rules.fired().at("neg(neg(x)) -> x"), 2);
}

TEST(RuleSetTest, ReplacesAGraphOutputButNeverAnInput) {
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Neg(b.Neg(in[0])), in[0]};
  });
  RuleSet rules("test", {DoubleNeg()});
  ASSERT_TRUE(rules.Run(*built.graph).ok());
  ASSERT_EQ(built.graph->outputs().size(), 2u);
  EXPECT_EQ(built.graph->outputs()[0], built.inputs[0]);
  EXPECT_EQ(built.graph->inputs()[0], built.inputs[0]);
}

TEST(RuleSetTest, UnchangedGraphReportsNoChange) {
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Neg(in[0])};
  });
  RuleSet rules("test", {DoubleNeg()});
  auto changed = rules.Run(*built.graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_TRUE(rules.fired().empty());
}

TEST(RuleSetTest, ARuleThatBuildsNodesAndGivesUpChangesNothing) {
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Neg(in[0])};
  });
  RuleSet rules("test", {{"neg", "gives up", [](RuleContext& b, const ir::Apply& n) {
                            Exp(b, n.inputs[0]);
                            return static_cast<ir::Variable*>(nullptr);
                          }}});
  auto changed = rules.Run(*built.graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_TRUE(ir::Verify(*built.graph).ok());
  EXPECT_EQ(Exprs(*built.graph), "neg(x0)");
}

TEST(RuleSetTest, AReplacementOfAnotherTypeIsFittedOrSkipped) {
  // exp of an int32 vector is float64: replacing it by the input needs a cast.
  auto built = Build({ir::Type::Of(DType::kInt32, 1)}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{Exp(b, in[0])};
  });
  RuleSet cast("test", {{"exp", "exp(x) -> x",
                         [](RuleContext&, const ir::Apply& n) { return n.inputs[0]; }}});
  ASSERT_TRUE(cast.Run(*built.graph).ok());
  EXPECT_TRUE(ir::Verify(*built.graph).ok());
  EXPECT_EQ(Exprs(*built.graph), "cast{float64}(x0)");

  // A matrix cannot stand for a vector: the rule is skipped.
  auto m = Build({ir::Type::Of(DType::kFloat64, 2)}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Sum(in[0], {0})};
  });
  RuleSet wrong("test", {{"sum", "sum(x) -> x",
                          [](RuleContext&, const ir::Apply& n) { return n.inputs[0]; }}});
  auto changed = wrong.Run(*m.graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
}

TEST(RuleSetTest, FitTypeAddsLeadingBroadcastableDims) {
  ir::Graph g;
  ops::NodeBuilder b(g);
  ir::Variable* v = g.AddInput(ir::Type::Of(DType::kFloat32, 1), "v");
  ir::Variable* fitted = FitType(b, v, ir::Type{DType::kFloat64, {true, false}});
  ASSERT_NE(fitted, nullptr);
  EXPECT_EQ(Expr(fitted), "dimshuffle{x,0}(cast{float64}(v))");
  // Non-broadcastable leading dim: the replacement could be smaller than the original.
  EXPECT_EQ(FitType(b, v, ir::Type{DType::kFloat32, {false, false}}), nullptr);
  EXPECT_EQ(FitType(b, v, ir::Type::Scalar(DType::kFloat32)), nullptr);
  EXPECT_EQ(FitType(b, v, v->type), v);
}

TEST(RuleSetTest, RulesThatUndoEachOtherStop) {
  auto built = Build({kVec, kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Add(in[0], in[1])};
  });
  RuleSet swap("test", {{"add", "a + b -> b + a", [](RuleContext& b, const ir::Apply& n) {
                           return b.Add(n.inputs[1], n.inputs[0]);
                         }}});
  auto changed = swap.Run(*built.graph);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(ir::Verify(*built.graph).ok());
  EXPECT_GT(swap.fired().at("a + b -> b + a"), 100);
}

TEST(RuleSetTest, UsesCountsLiveConsumers) {
  // neg(x) feeds two consumers; after one of them is rewritten away it has one.
  std::vector<int> seen;
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    ir::Variable* n = b.Neg(in[0]);
    return std::vector<ir::Variable*>{Exp(b, n), b.Apply("log", {b.Neg(n)})};
  });
  RuleSet rules("test", {DoubleNeg(), {"exp", "count", [&](RuleContext& b, const ir::Apply& n) {
                                         seen.push_back(b.Uses(n.inputs[0]));
                                         return static_cast<ir::Variable*>(nullptr);
                                       }}});
  ASSERT_TRUE(rules.Run(*built.graph).ok());
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back(), 1);
  EXPECT_EQ(Exprs(*built.graph), "exp(neg(x0)); log(x0)");
}

TEST(RuleSetTest, AFailingBuilderIsAnErrorNamingTheRule) {
  auto built = Build({kVec}, [](ops::NodeBuilder& b, const auto& in) {
    return std::vector<ir::Variable*>{b.Neg(in[0])};
  });
  RuleSet bad("test", {{"neg", "bad rule", [](RuleContext& b, const ir::Apply& n) {
                          return b.Apply("no_such_op", {n.inputs[0]});
                        }}});
  auto changed = bad.Run(*built.graph);
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.status().message().find("bad rule"), std::string::npos);
}

// A rule keyed by a misspelt op would never fire; building the rule set refuses it.
TEST(RuleSetDeathTest, ARuleForAnUnknownOpAborts) {
  EXPECT_DEATH(RuleSet("test", {{"tri_gama", "typo",
                                 [](RuleContext&, const ir::Apply&) {
                                   return static_cast<ir::Variable*>(nullptr);
                                 }}}),
               "rule 'typo' matches unknown op 'tri_gama'");
}

}  // namespace
}  // namespace tensord::passes
