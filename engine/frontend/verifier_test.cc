#include "engine/frontend/verifier.h"

#include <gtest/gtest.h>

#include "engine/ops/op_def.h"

namespace tensord::ir {
namespace {

TEST(Verifier, AcceptsAWellFormedGraphAndCatchesBrokenOnes) {
  Graph g;
  Variable* x = g.AddInput(Type::Of(DType::kFloat32, 1), "x");
  Apply* neg = g.AddApply("neg", {}, {x}, {Type::Of(DType::kFloat32, 1)});
  g.outputs() = {neg->outputs[0]};
  EXPECT_TRUE(Verify(g).ok()) << Verify(g);

  neg->outputs[0]->type = Type::Of(DType::kFloat64, 1);  // a rewrite that got the type wrong
  absl::Status s = Verify(g);
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("infers TensorType(float32, vector)"), std::string::npos) << s;
  neg->outputs[0]->type = Type::Of(DType::kFloat32, 1);

  // A node that consumes a value computed after it.
  Apply* exp = g.AddApply("exp", {}, {x}, {Type::Of(DType::kFloat32, 1)});
  neg->inputs[0] = exp->outputs[0];
  s = Verify(g);
  EXPECT_NE(s.message().find("before it is computed"), std::string::npos) << s;
}

}  // namespace
}  // namespace tensord::ir
