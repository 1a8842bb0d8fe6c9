// The CUDA provider's decisions, which need no device: which nodes a cudaN context runs, and the
// launch parameters of a composite kernel from its operands' shapes and strides (the layout
// composite_source.h generates). Launches are tested on a GPU (cuda_backend_tests).
#include "engine/backends/cuda/provider/provider.h"

#include <gtest/gtest.h>

#include "engine/backends/cuda/composite_source.h"
#include "engine/compile/testing_util.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;

int64_t Op(const std::string& name) { return ops::composite::Opcode(name); }

ir::Attrs Composite(DType dtype, std::vector<int64_t> program, std::string reduce = "") {
  ir::Attrs a{{"dtype", dtype}, {"program", std::move(program)}};
  if (!reduce.empty()) a["reduce"] = std::move(reduce);
  return a;
}

TEST(CudaProvider, RunsTransfersAndElementwiseProgramsOfOneFloatDType) {
  ir::Graph g;
  const auto f32 = ir::Type::Of(DType::kFloat32, 2), f64 = ir::Type::Of(DType::kFloat64, 2);
  ir::Variable* x = g.AddInput(f32, "x");
  ir::Variable* y = g.AddInput(f32, "y");
  ir::Variable* d = g.AddInput(f64, "d");
  ir::Variable* i = g.AddInput(ir::Type::Of(DType::kInt32, 2), "i");
  auto runs = [](ir::Variable* v) { return Supports(*v->owner); };
  const std::vector<int64_t> exp_add = {Op("exp"), 0, -1, -1, Op("add"), 2, 1, -1};
  EXPECT_TRUE(runs(Node(g, "composite", {x, y}, Composite(DType::kFloat32, exp_add))));
  EXPECT_TRUE(runs(Node(g, "composite", {d, d}, Composite(DType::kFloat64, exp_add))));
  EXPECT_TRUE(runs(Node(g, "exp", {x})));
  EXPECT_TRUE(runs(Node(g, "mul", {d, d})));
  EXPECT_TRUE(runs(Node(g, "transfer", {x}, {{"target", std::string("dev0")}})));
  EXPECT_TRUE(runs(Node(g, "composite", {x, y}, Composite(DType::kFloat32, exp_add, "sum"))));
  EXPECT_TRUE(runs(Node(g, "composite", {d, d}, Composite(DType::kFloat64, exp_add, "max"))));
  // An input the host would cast, a comparison's bool output, a vector product.
  EXPECT_FALSE(runs(Node(g, "composite", {x, i}, Composite(DType::kFloat32, exp_add))));
  EXPECT_FALSE(runs(Node(g, "add", {x, d})));
  EXPECT_FALSE(runs(Node(g, "exp", {i})));
  EXPECT_FALSE(runs(Node(g, "gt", {x, y})));
  EXPECT_TRUE(runs(Node(g, "dot", {x, y})));  // cuBLAS
  EXPECT_TRUE(runs(Node(g, "dot", {d, d})));
  EXPECT_FALSE(runs(Node(g, "dot", {x, d})));  // the host would cast x
  const ir::Attrs contract_rows{{"axes_a", std::vector<int64_t>{1}},
                                {"axes_b", std::vector<int64_t>{1}}};
  EXPECT_TRUE(runs(Node(g, "tensordot", {x, y}, contract_rows)));  // x y^T
  EXPECT_TRUE(runs(Node(g, "dimshuffle", {x}, {{"new_order", std::vector<int64_t>{1, 0}}})));
  ir::Variable* s = g.AddInput(ir::Type::Scalar(DType::kFloat32), "s");
  EXPECT_TRUE(runs(Node(g, "gemm", {x, s, x, y, s})));
  EXPECT_TRUE(runs(Node(g, "dot_composite", {x, y, x},
                        Composite(DType::kFloat32, {Op("tanh"), 0, -1, -1, Op("add"), 2, 1, -1}))));
  EXPECT_FALSE(runs(Node(g, "dot", {x, g.AddInput(ir::Type::Of(DType::kFloat32, 1), "v")})));
  // add(x, y, x) is two instructions; switch wants a bool condition, which the host would make.
  EXPECT_FALSE(runs(Node(g, "add", {x, y, x})));
  EXPECT_FALSE(runs(Node(g, "switch", {x, y, x})));
  auto why = DeviceProgram(*Node(g, "add", {x, d})->owner);
  EXPECT_EQ(why.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(why.status().message().find("the host would cast it"), std::string::npos)
      << why.status();
}

ops::composite::Program AddProgram(int inputs, std::vector<bool> read) {
  ops::composite::Program p;
  p.dtype = DType::kFloat32;
  p.num_inputs = inputs;
  p.code = {{static_cast<int>(Op("add")), {0, 1, -1}}};
  p.input_read = std::move(read);
  return p;
}

TEST(CudaProvider, ParamsMergeWhatEveryOperandWalksUniformly) {
  Tensor a(DType::kFloat32, {4, 6}), b(DType::kFloat32, {4, 6});
  const Tensor* both[] = {&a, &b};
  int rank = 0;
  auto p = CompositeParams(AddProgram(2, {true, true}), both, {4, 6}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 1);  // contiguous: one row of 24
  const auto address = [](const Tensor& t) { return reinterpret_cast<int64_t>(t.raw()); };
  EXPECT_EQ(*p, (std::vector<int64_t>{24, 24, address(a), address(b), 1, 1}));

  // A row broadcast over the rows, and a transposed view: nothing merges.
  Tensor row(DType::kFloat32, {6});
  Tensor t(DType::kFloat32, {6, 4});
  Tensor tv = t.StridedView({4, 6}, {1, 4}, 0);
  const Tensor* mixed[] = {&row, &tv};
  p = CompositeParams(AddProgram(2, {true, true}), mixed, {4, 6}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 2);
  EXPECT_EQ(*p, (std::vector<int64_t>{24, 4, 6, address(row), address(t), 0, 1, 1, 4}));
}

TEST(CudaProvider, ParamsOfOneElementAnUnreadInputAndTooManyDims) {
  Tensor s(DType::kFloat32, {}), model(DType::kFloat32, {1, 1});
  const Tensor* ins[] = {&s, &model};
  int rank = 0;
  // A 0-d output walks one dim of 1; a model read for its shape only has no address.
  auto p = CompositeParams(AddProgram(2, {true, false}), ins, {1, 1}, &rank);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(rank, 1);
  EXPECT_EQ(*p, (std::vector<int64_t>{1, 1, reinterpret_cast<int64_t>(s.raw()), 0, 0, 0}));

  // Nine dims of 2 that a transposition keeps apart: past what one kernel walks.
  runtime::Shape shape(kMaxCompositeRank + 1, 2);
  Tensor base(DType::kFloat32, shape);
  runtime::Strides reversed = base.strides();
  std::reverse(reversed.begin(), reversed.end());
  Tensor transposed = base.StridedView(shape, reversed, 0);
  const Tensor* deep[] = {&base, &transposed};
  p = CompositeParams(AddProgram(2, {true, true}), deep, shape, &rank);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(p.status().message().find("merge to 9"), std::string::npos) << p.status();
}

}  // namespace
}  // namespace tensord::cuda
