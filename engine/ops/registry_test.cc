#include <gtest/gtest.h>

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
    EXPECT_NE(static_cast<bool>(d->make_cpu_kernel), d->num_bodies > 0);
    EXPECT_FALSE(d->doc.empty());
    EXPECT_GE(d->min_inputs, 0);
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

TEST(Registry, HasTheSkeletonOps) {
  for (const char* name : {"add", "sub", "mul", "true_div", "neg", "exp", "log", "pow", "dot",
                           "sum", "max", "reshape", "dimshuffle", "cast", "fill", "alloc"}) {
    EXPECT_NE(Registry::Global().Find(name), nullptr) << name;
  }
  EXPECT_EQ(Registry::Global().Find("no_such_op"), nullptr);
}

}  // namespace
}  // namespace tensord::ops
