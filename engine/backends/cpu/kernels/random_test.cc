// The random op kernels: shapes, value ranges, moments, the state they return, and the errors
// for bad requests. (Statistics against NumPy over the wire are in tests/python/test_random*.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <set>

#include "engine/backends/cpu/provider.h"
#include "engine/backends/cpu/random_mrg.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/op_def.h"

namespace tensord::ops {
namespace {

using runtime::Tensor;

Tensor Ints(DType dtype, std::vector<int64_t> values, runtime::Shape shape) {
  Tensor t(dtype, std::move(shape));
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DType::kInt32)
      t.data<int32_t>()[i] = static_cast<int32_t>(values[i]);
    else
      t.data<int64_t>()[i] = values[i];
  }
  return t;
}

Tensor Doubles(std::vector<double> values, runtime::Shape shape) {
  Tensor t(DType::kFloat64, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<double>());
  return t;
}

Tensor State(int64_t streams, int32_t seed) {
  std::vector<int64_t> v(streams * 6);
  for (size_t i = 0; i < v.size(); ++i) v[i] = seed + static_cast<int32_t>(i / 6);
  return Ints(DType::kInt32, v, {streams, 6});
}

Tensor Size(std::vector<int64_t> dims) {
  const int64_t n = static_cast<int64_t>(dims.size());
  return Ints(DType::kInt64, std::move(dims), {n});
}

// Builds `op` over inputs of the given values' types and runs its CPU kernel: {state, sample}.
absl::StatusOr<std::vector<Tensor>> RunOp(const std::string& op, std::vector<Tensor> values,
                                          ir::Attrs attrs) {
  ir::Graph g;
  std::vector<ir::Variable*> inputs;
  for (const Tensor& v : values) inputs.push_back(g.AddInput(ir::Type::Of(v.dtype(), v.ndim())));
  NodeBuilder b(g);
  std::vector<ir::Variable*> outs = b.ApplyMulti(op, inputs, attrs);
  TENSORD_RETURN_IF_ERROR(b.status());
  const ir::Apply& node = *outs[0]->owner;
  TENSORD_ASSIGN_OR_RETURN(auto kernel, cpu::MakeNodeKernel(node));
  // The compiler casts inputs to the dtypes the op asks for; do the same for the tests' doubles.
  std::vector<Tensor> result(2);
  std::vector<const Tensor*> in;
  for (const Tensor& v : values) in.push_back(&v);
  std::vector<Tensor*> out = {&result[0], &result[1]};
  TENSORD_RETURN_IF_ERROR(kernel->Run(in, out));
  return result;
}

// The status of type inference for `op` over inputs of the given values' types (the server's
// check of a decoded graph, which reports INVALID_ARGUMENT).
absl::Status InferStatus(const std::string& op, const std::vector<Tensor>& values,
                         ir::Attrs attrs) {
  ir::Graph g;
  ir::Apply node;
  node.op = op;
  node.attrs = std::move(attrs);
  for (const Tensor& v : values)
    node.inputs.push_back(g.AddInput(ir::Type::Of(v.dtype(), v.ndim())));
  std::vector<ir::Type> types;
  return ResolveAndInfer(node, &types);
}

ir::Attrs Attrs(DType dtype, int64_t ndim) { return {{"dtype", dtype}, {"ndim", ndim}}; }

TEST(RandomOpsTest, UniformAdvancesTheStateAndMatchesTheGenerator) {
  Tensor state = State(3, 100);
  auto r = RunOp("mrg_uniform", {state, Size({2, 5})}, Attrs(DType::kFloat64, 2));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[1].shape(), (runtime::Shape{2, 5}));
  // The reference: draw j from stream j % 3 of a copy of the input state.
  std::vector<int32_t> copy(state.data<int32_t>(), state.data<int32_t>() + 18);
  cpu::MrgStreams ref(copy.data(), 3);
  for (int i = 0; i < 10; ++i) EXPECT_EQ((*r)[1].data<double>()[i], ref.NextDouble());
  EXPECT_EQ(std::memcmp((*r)[0].raw(), copy.data(), 18 * 4), 0);
  EXPECT_NE(std::memcmp((*r)[0].raw(), state.raw(), 18 * 4), 0);  // input left alone
  EXPECT_EQ(state.data<int32_t>()[0], 100);
}

TEST(RandomOpsTest, NormalHasUnitMomentsAndOddSizes) {
  auto r = RunOp("random_normal", {State(16, 5), Size({100001})}, Attrs(DType::kFloat64, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  const double* z = (*r)[1].data<double>();
  double mean = 0, sq = 0;
  for (int i = 0; i < 100001; ++i) mean += z[i], sq += z[i] * z[i];
  mean /= 100001;
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sq / 100001 - mean * mean, 1.0, 0.02);
}

TEST(RandomOpsTest, BinomialCountsStayInRangeWithTheRightMean) {
  auto r = RunOp("random_binomial",
                 {State(1, 9), Size({20000}), Ints(DType::kInt64, {50}, {}), Doubles({0.3}, {})},
                 Attrs(DType::kInt64, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t* k = (*r)[1].data<int64_t>();
  double mean = 0;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_GE(k[i], 0);
    ASSERT_LE(k[i], 50);
    mean += k[i];
  }
  EXPECT_NEAR(mean / 20000, 15.0, 0.15);
  auto bad = RunOp("random_binomial",
                   {State(1, 9), Size({3}), Ints(DType::kInt64, {5}, {}), Doubles({1.5}, {})},
                   Attrs(DType::kInt64, 1));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("p must be in [0, 1]"), std::string::npos);
}

TEST(RandomOpsTest, MultinomialRowsSumToN) {
  auto r = RunOp("random_multinomial",
                 {State(4, 3), Size({2}), Ints(DType::kInt64, {7}, {}),
                  Doubles({0.2, 0.3, 0.5, 1.0, 0.0, 0.0}, {2, 3})},
                 Attrs(DType::kInt64, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  const int64_t* c = (*r)[1].data<int64_t>();
  EXPECT_EQ(c[0] + c[1] + c[2], 7);
  EXPECT_EQ(c[3], 7);
  auto bad = RunOp("random_multinomial",
                   {State(1, 3), Size({1}), Ints(DType::kInt64, {1}, {}), Doubles({0.2, 0.2}, {2})},
                   Attrs(DType::kInt64, 1));
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("sum to 1"), std::string::npos);
}

TEST(RandomOpsTest, ChoiceWithoutReplacementIsUnique) {
  ir::Attrs attrs = Attrs(DType::kInt64, 1);
  attrs["replace"] = false;
  auto r =
      RunOp("random_choice",
            {State(1, 21), Size({10}), Ints(DType::kInt64, {10}, {}), Doubles({}, {0})}, attrs);
  ASSERT_TRUE(r.ok()) << r.status();
  std::set<int64_t> seen((*r)[1].data<int64_t>(), (*r)[1].data<int64_t>() + 10);
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 9);
  auto too_many =
      RunOp("random_choice",
            {State(1, 21), Size({11}), Ints(DType::kInt64, {10}, {}), Doubles({}, {0})}, attrs);
  EXPECT_EQ(too_many.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(too_many.status().message().find("replace=False"), std::string::npos);
}

TEST(RandomOpsTest, PermutationRowsArePermutations) {
  auto r = RunOp("random_permutation", {State(2, 8), Size({3}), Ints(DType::kInt64, {6}, {})},
                 Attrs(DType::kInt64, 1));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)[1].shape(), (runtime::Shape{3, 6}));
  for (int row = 0; row < 3; ++row) {
    std::vector<int64_t> v((*r)[1].data<int64_t>() + 6 * row,
                           (*r)[1].data<int64_t>() + 6 * row + 6);
    std::sort(v.begin(), v.end());
    for (int i = 0; i < 6; ++i) EXPECT_EQ(v[i], i);
  }
}

TEST(RandomOpsTest, BadSizesAndStatesAreInvalidArguments) {
  auto negative = RunOp("mrg_uniform", {State(1, 1), Size({2, -1})}, Attrs(DType::kFloat32, 2));
  EXPECT_EQ(negative.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(negative.status().message().find("negative"), std::string::npos);
  auto wrong_len = RunOp("mrg_uniform", {State(1, 1), Size({2})}, Attrs(DType::kFloat32, 2));
  EXPECT_EQ(wrong_len.status().code(), absl::StatusCode::kInvalidArgument);
  auto bad_state = RunOp("mrg_uniform", {Ints(DType::kInt32, {1, 2, 3, 4, 5}, {1, 5}), Size({2})},
                         Attrs(DType::kFloat32, 1));
  EXPECT_EQ(bad_state.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InferStatus("mrg_uniform", {State(1, 1), Size({2})}, Attrs(DType::kInt32, 1)).code(),
            absl::StatusCode::kInvalidArgument);
  absl::Status float_size =
      InferStatus("mrg_uniform", {State(1, 1), Doubles({2.0}, {1})}, Attrs(DType::kFloat32, 1));
  EXPECT_EQ(float_size.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(float_size.message().find("size"), std::string::npos);
  EXPECT_EQ(
      InferStatus("random_choice", {State(1, 1), Size({2}), Doubles({1.0}, {}), Doubles({}, {0})},
                  {{"dtype", DType::kInt64}, {"ndim", int64_t{1}}, {"replace", true}})
          .code(),
      absl::StatusCode::kInvalidArgument);  // a must be an integer when a scalar
}

}  // namespace
}  // namespace tensord::ops
