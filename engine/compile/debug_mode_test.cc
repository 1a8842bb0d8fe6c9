#include "engine/compile/debug_mode.h"

#include <gtest/gtest.h>

#include "engine/compile/modes.h"
#include "engine/frontend/verifier.h"
#include "engine/ops/node_builder.h"

namespace tensord::compile {
namespace {

using runtime::Tensor;

Tensor Vec(DType d, std::vector<double> values) {
  Tensor t(d, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) {
    if (d == DType::kFloat32) t.data<float>()[i] = static_cast<float>(values[i]);
    if (d == DType::kFloat64) t.data<double>()[i] = values[i];
  }
  return t;
}

// A pass made of a lambda, so each test states its rewrite in place.
class LambdaPass : public passes::Pass {
 public:
  using Fn = std::function<bool(ir::Graph&)>;
  LambdaPass(std::string name, Fn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::string name() const override { return name_; }
  absl::StatusOr<bool> Run(ir::Graph& g) override {
    bool changed = fn_(g);
    TENSORD_RETURN_IF_ERROR(g.SortTopologically());
    return changed;
  }

 private:
  std::string name_;
  Fn fn_;
};

// Replaces the first `op` node's output with what `make` builds from it (null: not this one).
LambdaPass::Fn ReplaceFirst(
    std::string op, std::function<ir::Variable*(ops::NodeBuilder&, const ir::Apply&)> make) {
  return [op, make](ir::Graph& g) {
    // Collected first: building appends to the applies being searched.
    std::vector<ir::Apply*> candidates;
    for (const auto& a : g.applies())
      if (a->op == op) candidates.push_back(a.get());
    for (ir::Apply* a : candidates) {
      ops::NodeBuilder b(g);
      ir::Variable* replacement = make(b, *a);
      EXPECT_TRUE(b.status().ok()) << b.status();
      if (replacement == nullptr) continue;
      g.ReplaceAllUses(a->outputs[0], replacement);
      return true;
    }
    return false;
  };
}

// x + y -> x - y: the deliberately wrong rewrite.
std::shared_ptr<passes::Pass> AddBecomesSub() {
  return std::make_shared<LambdaPass>(
      "test_add_becomes_sub", ReplaceFirst("add", [](ops::NodeBuilder& b, const ir::Apply& a) {
        return b.Sub(a.inputs[0], a.inputs[1]);
      }));
}

// o -> neg(neg(o)) for the first output, once: changes the graph, not the values.
std::shared_ptr<passes::Pass> DoubleNegation(std::string name) {
  return std::make_shared<LambdaPass>(std::move(name), [](ir::Graph& g) {
    ir::Variable* o = g.outputs()[0];
    if (o->owner != nullptr && o->owner->op == "neg") return false;
    ops::NodeBuilder b(g);
    g.outputs()[0] = b.Neg(b.Neg(o));
    return true;
  });
}

std::shared_ptr<passes::Pass> NoOp() {
  return std::make_shared<LambdaPass>("test_noop", [](ir::Graph&) { return false; });
}

// f(x, y) = (x + y) * x over vectors of `dtype`; with `w`, also the update w <- w + x.
PreparedFunction MakeFunction(DType dtype = DType::kFloat64, bool with_update = false) {
  auto g = std::make_unique<ir::Graph>();
  auto* x = g->AddInput(ir::Type::Of(dtype, 1), "x");
  auto* y = g->AddInput(ir::Type::Of(dtype, 1), "y");
  g->inputs() = {x, y};
  ops::NodeBuilder b(*g);
  ir::Variable* out = b.Mul(b.Add(x, y), x);
  out->name = "out";
  g->outputs() = {out};
  std::vector<Substitution> updates;
  if (with_update) {
    auto* w = g->AddShared(ir::Type::Of(dtype, 1), "shared-w", "w");
    updates.push_back({w, b.Add(w, x)});
  }
  CompileOptions options;
  options.mode = "DebugMode";
  auto prepared = PrepareFunction(std::move(g), std::move(updates), {}, options);
  EXPECT_TRUE(prepared.ok()) << prepared.status();
  return *std::move(prepared);
}

absl::StatusOr<RunResult> RunWith(PassList passes, DType dtype = DType::kFloat64,
                                  bool with_update = false) {
  auto exe =
      BuildDebugModeExecutable(MakeFunction(dtype, with_update), [passes] { return passes; });
  if (!exe.ok()) return exe.status();
  std::vector<Tensor> shared;
  if (with_update) shared.push_back(Vec(dtype, {10, 20, 30}));
  return (*exe)->Run({Vec(dtype, {1, 2, 3}), Vec(dtype, {4, 5, 6})}, shared);
}

TEST(DebugMode, CleanGraphsRunAndMatch) {
  // The real pipeline (whatever passes it has) through the ordinary entry point.
  auto exe = BuildExecutable(MakeFunction(DType::kFloat64, true));
  ASSERT_TRUE(exe.ok()) << exe.status();
  ASSERT_NE((*exe)->interceptor(), nullptr);
  auto r = (*exe)->Run({Vec(DType::kFloat64, {1, 2, 3}), Vec(DType::kFloat64, {4, 5, 6})},
                       {Vec(DType::kFloat64, {10, 20, 30})});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_DOUBLE_EQ(r->outputs[0].data<double>()[2], (3 + 6) * 3);
  EXPECT_DOUBLE_EQ(r->updates[0].data<double>()[1], 22);
  // Rewrites that keep the values pass, however many run.
  auto ok = RunWith({DoubleNegation("test_neg_neg"), NoOp()}, DType::kFloat32, true);
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_FLOAT_EQ(ok->outputs[0].data<float>()[0], 5);
}

TEST(DebugMode, NamesTheFirstPassAfterWhichOutputsDiffer) {
  auto r = RunWith(
      {DoubleNegation("test_neg_neg"), NoOp(), AddBecomesSub(), DoubleNegation("test_later_pass")});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string msg(r.status().message());
  EXPECT_EQ(msg,
            "DebugMode: output 0 ('out') differs at flat index 0: -3 (optimized) vs 5 "
            "(unoptimized; tolerance rtol 1e-05, atol 1e-08); the first optimizer pass after which "
            "the results differ is 'test_add_becomes_sub'");
  // A later pass compounding the error: the message also says what the culprit alone did.
  auto doubled = std::make_shared<LambdaPass>("test_double", [](ir::Graph& g) {
    ir::Variable* o = g.outputs()[0];
    if (o->owner != nullptr && o->owner->op == "add" && o->owner->inputs[0] == o->owner->inputs[1])
      return false;
    ops::NodeBuilder b(g);
    g.outputs()[0] = b.Add(o, o);
    return true;
  });
  auto r2 = RunWith({AddBecomesSub(), doubled});
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.status().message().find(
                "-6 (optimized) vs 5 (unoptimized; tolerance rtol 1e-05, atol 1e-08); the first "
                "optimizer pass after which the results differ is 'test_add_becomes_sub' (right "
                "after it: output 0 ('out') differs at flat index 0: -3 (optimized)"),
            std::string::npos)
      << r2.status();
}

TEST(DebugMode, ComparesUpdatesToo) {
  // w + x -> w * x: only the update changes (the output's add reads no shared variable).
  auto wrong = std::make_shared<LambdaPass>(
      "test_wrong_update",
      ReplaceFirst("add", [](ops::NodeBuilder& b, const ir::Apply& a) -> ir::Variable* {
        if (a.inputs[0]->source != ir::Source::kShared) return nullptr;  // x + y: keep
        return b.Mul(a.inputs[0], a.inputs[1]);
      }));
  auto r = RunWith({wrong}, DType::kFloat64, true);
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("the update of shared variable 'w' differs at flat index 0: 10 (optimized) "
                     "vs 11 (unoptimized;"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("'test_wrong_update'"), std::string::npos) << msg;
}

TEST(DebugMode, ToleranceAbsorbsRoundingButNotErrors) {
  auto scale = [](double factor) {
    return std::make_shared<LambdaPass>("test_scale", [factor](ir::Graph& g) {
      ir::Variable* o = g.outputs()[0];
      if (o->owner != nullptr && o->owner->op == "true_div") return false;
      ops::NodeBuilder b(g);
      g.outputs()[0] = b.Div(o, b.Constant(1 / factor, o->type.dtype));
      return true;
    });
  };
  EXPECT_TRUE(RunWith({scale(1 + 1e-6)}, DType::kFloat32).ok());  // float32 rounding noise
  EXPECT_FALSE(RunWith({scale(1 + 1e-3)}, DType::kFloat32).ok());
  EXPECT_TRUE(RunWith({scale(1 + 1e-9)}, DType::kFloat64).ok());
  auto r = RunWith({scale(1 + 1e-4)}, DType::kFloat64);  // too much for float64
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("'test_scale'"), std::string::npos) << r.status();
}

TEST(DebugMode, OptimizedRunFailingWhereTheReferenceRuns) {
  // y is replaced by a 2-vector constant: the optimized graph cannot broadcast 3 against 2.
  auto pass = std::make_shared<LambdaPass>(
      "test_wrong_shape", ReplaceFirst("add", [](ops::NodeBuilder& b, const ir::Apply& a) {
        Tensor c = Vec(DType::kFloat64, {1, 1});
        ir::Variable* k = b.graph().AddConstant(c, ir::Type::Of(DType::kFloat64, 1));
        return b.Add(a.inputs[0], k);
      }));
  auto r = RunWith({pass});
  ASSERT_FALSE(r.ok());
  const std::string msg(r.status().message());
  EXPECT_NE(msg.find("the optimized graph failed where the unoptimized graph ran"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("'test_wrong_shape'"), std::string::npos) << msg;
}

TEST(DebugMode, ReferenceFailuresAreTheCallersErrors) {
  auto exe = BuildDebugModeExecutable(MakeFunction(), [] { return PassList{AddBecomesSub()}; });
  ASSERT_TRUE(exe.ok());
  // Mismatched lengths fail in the unoptimized graph first: reported as is, no bisecting.
  auto bad = (*exe)->Run({Vec(DType::kFloat64, {1, 2}), Vec(DType::kFloat64, {1, 2, 3})}, {});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message().find("DebugMode"), std::string::npos) << bad.status();
}

TEST(DebugMode, APassLeavingAnInvalidGraphIsNamedAtCompileTime) {
  auto breaks = std::make_shared<LambdaPass>("test_bad_types", [](ir::Graph& g) {
    ir::Variable* x = g.inputs()[0];
    // A float64 add declared float32: the verifier's type inference disagrees.
    ir::Apply* a = g.AddApply("add", {}, {x, x}, {ir::Type::Of(DType::kFloat32, 1)});
    a->def = g.applies()[0]->def;
    g.outputs().push_back(a->outputs[0]);
    return true;
  });
  auto exe = BuildDebugModeExecutable(MakeFunction(), [breaks] { return PassList{breaks}; });
  ASSERT_FALSE(exe.ok());
  EXPECT_NE(exe.status().message().find("optimizer pass 'test_bad_types' left an invalid graph"),
            std::string::npos)
      << exe.status();
}

TEST(ClonePrepared, IsADeepCopyThatRunsTheSame) {
  PreparedFunction p = MakeFunction(DType::kFloat64, true);
  PreparedFunction c = ClonePrepared(p);
  EXPECT_NE(c.graph.get(), p.graph.get());
  EXPECT_EQ(c.canonical.key, p.canonical.key);
  ASSERT_EQ(c.updates.size(), 1u);
  EXPECT_EQ(c.updates[0].first->shared_id, "shared-w");
  EXPECT_EQ(c.updates[0].second->owner->op, "add");
  EXPECT_NE(c.updates[0].second, p.updates[0].second);
  ASSERT_EQ(c.canonical.shared.size(), 1u);
  EXPECT_EQ(c.canonical.shared[0], c.updates[0].first);
  EXPECT_EQ(c.graph->outputs()[0]->name, "out");
  EXPECT_EQ(c.graph->applies().size(), p.graph->applies().size());
  EXPECT_TRUE(ir::Verify(*c.graph).ok());
  // Rewriting the copy leaves the original alone.
  c.graph->outputs().clear();
  EXPECT_EQ(p.graph->outputs().size(), 1u);
}

}  // namespace
}  // namespace tensord::compile
