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

TEST(Registry, HasTheSkeletonOps) {
  for (const char* name : {"add", "sub", "mul", "true_div", "neg", "exp", "log", "pow", "dot",
                           "sum", "max", "reshape", "dimshuffle", "cast", "fill", "alloc"}) {
    EXPECT_NE(Registry::Global().Find(name), nullptr) << name;
  }
  EXPECT_EQ(Registry::Global().Find("no_such_op"), nullptr);
}

}  // namespace
}  // namespace tensord::ops
