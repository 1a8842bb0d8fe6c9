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
    EXPECT_TRUE(static_cast<bool>(d->make_cpu_kernel));
    EXPECT_FALSE(d->doc.empty());
    EXPECT_GE(d->min_inputs, 0);
  }
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
