// Random streams and sorting on a device (device_testing.h) against the host: the same state
// draws the same uniforms bit for bit and advances to the same state; normals agree within the
// device's math; sort and argsort give the host's result exactly (stable, NaN last); bad states
// and sizes are refused in the host's words.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"
#include "engine/ops/node_builder.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;
using testing::Compiled;
using testing::ExpectNear;
using testing::ExpectRefusedAsTheHost;
using testing::kOn;
using testing::MrgState;
using testing::SameBytes;
using testing::Scrambled;
using testing::To;

// (new state, sample) of `op` drawing a `dtype` sample of the size given at run time from a
// state moved to `where`; `transposed`: the state is given as its (6, streams) transpose and
// drawn from through a view (strides other than a matrix's).
std::shared_ptr<compile::Executable> Sampler(const std::string& where, const std::string& op,
                                             DType dtype, bool transposed = false) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* state = g->AddInput(ir::Type::Of(DType::kInt32, 2), "state");
  ir::Variable* size = g->AddInput(ir::Type::Of(DType::kInt64, 1), "size");
  g->inputs() = {state, size};
  ir::Variable* placed = To(*g, state, where);
  if (transposed) {
    placed = Node(*g, "dimshuffle", {placed}, {{"new_order", std::vector<int64_t>{1, 0}}});
  }
  ops::NodeBuilder b(*g);
  std::vector<ir::Variable*> outs =
      b.ApplyMulti(op, {placed, size}, {{"dtype", dtype}, {"ndim", int64_t{2}}});
  EXPECT_TRUE(b.status().ok()) << b.status();
  if (!b.status().ok()) return nullptr;
  g->outputs() = {To(*g, outs[0], "cpu"), To(*g, outs[1], "cpu")};
  return Compiled(std::move(g));
}

Tensor Transposed(const Tensor& m) {
  Tensor t(m.dtype(), {m.shape()[1], m.shape()[0]});
  for (int64_t r = 0; r < m.shape()[0]; ++r) {
    for (int64_t c = 0; c < m.shape()[1]; ++c) {
      t.data<int32_t>()[c * m.shape()[0] + r] = m.data<int32_t>()[r * m.shape()[1] + c];
    }
  }
  return t;
}

Tensor Size(int64_t rows, int64_t cols) {
  Tensor t(DType::kInt64, {2});
  t.data<int64_t>()[0] = rows;
  t.data<int64_t>()[1] = cols;
  return t;
}

TEST(TENSORD_PROVIDER_TEST_SUITE, SamplesMatchTheHostAndAdvanceTheState) {
  SKIP_WITHOUT_THE_DEVICE();
  for (const char* op : {"mrg_uniform", "random_normal"}) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      auto device = Sampler(kOn, op, dtype), host = Sampler("cpu", op, dtype);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      // More streams than draws (some only copied), fewer, an odd count (a normal's last
      // pair half used), none drawn at all.
      for (int64_t streams : {1, 5, 300}) {
        Tensor state = MrgState(streams, 12345);
        for (auto [rows, cols] :
             std::vector<std::pair<int64_t, int64_t>>{{3, 7}, {40, 33}, {0, 4}, {3, 7}}) {
          const std::string what = std::string(op) + " " + DTypeName(dtype) + " streams " +
                                   std::to_string(streams) + " size " + std::to_string(rows) + "x" +
                                   std::to_string(cols);
          auto got = device->Run({state, Size(rows, cols)}, {});
          auto want = host->Run({state, Size(rows, cols)}, {});
          ASSERT_TRUE(got.ok()) << what << ": " << got.status();
          ASSERT_TRUE(want.ok()) << what << ": " << want.status();
          EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what << ": state";
          if (std::string(op) == "mrg_uniform") {
            EXPECT_TRUE(SameBytes(got->outputs[1], want->outputs[1])) << what << ": sample";
          } else if (dtype == DType::kFloat32) {  // CUDA's logf, sinf, cosf against glibc's
            ExpectNear<float>(got->outputs[1], want->outputs[1], 1e-5, what);
          } else {
            ExpectNear<double>(got->outputs[1], want->outputs[1], 1e-13, what);
          }
          if (rows > 0) {
            EXPECT_FALSE(SameBytes(got->outputs[0], state)) << what << ": the state advanced";
          }
          state = want->outputs[0];  // the next draw goes on from here
        }
      }
    }
  }
}

// random_binomial(state, size, n, p) of one n and one p given at run time, on `where`.
std::shared_ptr<compile::Executable> BinomialSampler(const std::string& where, DType dtype) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* state = g->AddInput(ir::Type::Of(DType::kInt32, 2), "state");
  ir::Variable* size = g->AddInput(ir::Type::Of(DType::kInt64, 1), "size");
  ir::Variable* n = g->AddInput(ir::Type::Scalar(DType::kInt32), "n");
  ir::Variable* p = g->AddInput(ir::Type::Scalar(DType::kFloat32), "p");
  g->inputs() = {state, size, n, p};
  ops::NodeBuilder b(*g);
  std::vector<ir::Variable*> outs =
      b.ApplyMulti("random_binomial", {To(*g, state, where), size, n, p},
                   {{"dtype", dtype}, {"ndim", int64_t{2}}});
  EXPECT_TRUE(b.status().ok()) << b.status();
  if (!b.status().ok()) return nullptr;
  g->outputs() = {To(*g, outs[0], "cpu"), To(*g, outs[1], "cpu")};
  return Compiled(std::move(g));
}

template <typename T>
Tensor Scalar(DType dtype, T value) {
  Tensor t(dtype, {});
  *t.data<T>() = value;
  return t;
}

// Binomial draws of every kind (certain, by inversion, by a sum of n Bernoulli draws) equal the
// host's and advance the state as it does; bad parameters are refused in the host's words.
TEST(TENSORD_PROVIDER_TEST_SUITE, BinomialDrawsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    int32_t n;
    float p;
  };
  // A dropout mask, p above one half (counted from the other side), pmfs that are exact powers,
  // n * q past inversion (100 Bernoulli draws each), and the certain draws.
  const std::vector<Case> cases = {{1, 0.5f}, {1, 0.8125f}, {12, 0.25f}, {100, 0.5f},
                                   {7, 0.0f}, {7, 1.0f},    {0, 0.5f}};
  for (DType dtype : {DType::kInt64, DType::kFloat32, DType::kInt8}) {
    auto device = BinomialSampler(kOn, dtype), host = BinomialSampler("cpu", dtype);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    for (int64_t streams : {1, 7, 300}) {
      Tensor state = MrgState(streams, 4242);
      for (const Case& c : cases) {
        const std::string what = std::string(DTypeName(dtype)) + " streams " +
                                 std::to_string(streams) + " n " + std::to_string(c.n) + " p " +
                                 std::to_string(c.p);
        const std::vector<Tensor> in = {state, Size(9, 13), Scalar(DType::kInt32, c.n),
                                        Scalar(DType::kFloat32, c.p)};
        auto got = device->Run(in, {});
        auto want = host->Run(in, {});
        ASSERT_TRUE(got.ok()) << what << ": " << got.status();
        ASSERT_TRUE(want.ok()) << what << ": " << want.status();
        EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what << ": state";
        EXPECT_TRUE(SameBytes(got->outputs[1], want->outputs[1])) << what << ": sample";
        state = want->outputs[0];
      }
    }
  }
  auto device = BinomialSampler(kOn, DType::kInt64), host = BinomialSampler("cpu", DType::kInt64);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  // Past the scratch one chunk of draws holds (64 MiB of uniforms): 90,000 draws of 100 each,
  // the second chunk starting in the middle of a round of the 7 streams.
  {
    const std::vector<Tensor> in = {MrgState(7, 99), Size(300, 300), Scalar(DType::kInt32, 100),
                                    Scalar(DType::kFloat32, 0.5f)};
    auto got = device->Run(in, {});
    auto want = host->Run(in, {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << "chunks: state";
    EXPECT_TRUE(SameBytes(got->outputs[1], want->outputs[1])) << "chunks: sample";
  }
  // An empty sample takes any n and p, as on the host (which checks each draw's).
  for (auto [n, p] : {std::pair{-1, 0.5f}, {3, 1.5f}}) {
    const std::vector<Tensor> in = {MrgState(3, 1), Size(0, 4), Scalar(DType::kInt32, n),
                                    Scalar(DType::kFloat32, p)};
    auto got = device->Run(in, {});
    auto want = host->Run(in, {});
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << "empty: state";
  }
  for (auto [n, p] : {std::pair{-1, 0.5f}, {3, 1.5f}, {1 << 30, 0.5f}}) {  // the last: too long
    const std::vector<Tensor> in = {MrgState(3, 1), Size(4, 4), Scalar(DType::kInt32, n),
                                    Scalar(DType::kFloat32, p)};
    ExpectRefusedAsTheHost(*device, *host, in);
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, AStateReadThroughAViewDrawsAsItsCopy) {
  SKIP_WITHOUT_THE_DEVICE();
  auto device = Sampler(kOn, "mrg_uniform", DType::kFloat32, /*transposed=*/true);
  auto host = Sampler("cpu", "mrg_uniform", DType::kFloat32);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor state = MrgState(9, 777);
  auto got = device->Run({Transposed(state), Size(5, 6)}, {});
  auto want = host->Run({state, Size(5, 6)}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0]));
  EXPECT_TRUE(SameBytes(got->outputs[1], want->outputs[1]));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, BadStatesAndSizesAreRefusedAsOnTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto device = Sampler(kOn, "random_normal", DType::kFloat32);
  auto host = Sampler("cpu", "random_normal", DType::kFloat32);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  Tensor five_columns(DType::kInt32, {3, 5});
  for (int64_t i = 0; i < 15; ++i) five_columns.data<int32_t>()[i] = 1;
  for (auto [state, size] : std::vector<std::pair<Tensor, Tensor>>{{five_columns, Size(2, 2)},
                                                                   {MrgState(2, 1), Size(2, -1)}}) {
    auto got = device->Run({state, size}, {});
    auto want = host->Run({state, size}, {});
    ASSERT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
    ASSERT_EQ(want.status().code(), absl::StatusCode::kInvalidArgument) << want.status();
    // The host's words after the node's label (whose operands' names differ).
    const std::string words(got.status().message()), host_words(want.status().message());
    EXPECT_NE(words.find(host_words.substr(host_words.rfind(": ") + 2)), std::string::npos)
        << got.status() << " vs the host's " << want.status();
  }
}

// sort(x, axis) or argsort on `where`; `transposed`: x is read through a transposing view.
std::shared_ptr<compile::Executable> Sorter(const std::string& where, const std::string& op,
                                            DType dtype, int ndim, int64_t axis,
                                            bool transposed = false) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, ndim), "x");
  g->inputs() = {x};
  ir::Variable* placed = To(*g, x, where);
  if (transposed) {
    std::vector<int64_t> order;
    for (int d = ndim - 1; d >= 0; --d) order.push_back(d);
    placed = Node(*g, "dimshuffle", {placed}, {{"new_order", order}});
  }
  g->outputs() = {To(*g, Node(*g, op, {placed}, {{"axis", axis}}), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, SortAndArgsortMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    DType dtype;
    runtime::Shape shape;
    int64_t axis;
    bool transposed;
  };
  const std::vector<Case> cases = {
      {DType::kFloat32, {4, 37, 5}, 1, false},  // a middle axis, of odd length
      {DType::kFloat32, {4, 37, 5}, 0, false},  // the outer axis
      {DType::kFloat32, {4, 37, 5}, -1, true},  // the inner axis of a transposing view
      {DType::kFloat64, {3, 1000}, 1, false},   // long lanes: ten merge passes
      {DType::kFloat64, {6, 1}, 1, false},      // lanes of one: nothing to merge
      {DType::kInt32, {2, 257}, -1, false},     // ties: argsort's stability
      {DType::kInt64, {129}, 0, false},        {DType::kUInt8, {5, 16}, 0, true},
      {DType::kBool, {3, 50}, 1, false},       {DType::kFloat32, {0, 5}, 1, false},  // empty
  };
  for (const Case& c : cases) {
    for (const char* op : {"sort", "argsort"}) {
      const int ndim = static_cast<int>(c.shape.size());
      auto device = Sorter(kOn, op, c.dtype, ndim, c.axis, c.transposed);
      auto host = Sorter("cpu", op, c.dtype, ndim, c.axis, c.transposed);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      const Tensor x = Scrambled(c.dtype, c.shape);
      auto got = device->Run({x}, {});
      auto want = host->Run({x}, {});
      const std::string what = std::string(op) + " " + DTypeName(c.dtype) + " " +
                               runtime::ShapeString(c.shape) + " axis " + std::to_string(c.axis);
      ASSERT_TRUE(got.ok()) << what << ": " << got.status();
      ASSERT_TRUE(want.ok()) << what << ": " << want.status();
      // Bit for bit: -0.0 stays before 0.0 where it came first, NaNs last.
      EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what;
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
