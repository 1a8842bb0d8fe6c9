// Products on a device (device_testing.h) against the host: dot of matrices and vectors, outer
// products, contractions over blocks of dims, batched_dot and batched_tensordot; their errors in
// the host's words.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
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
using testing::Filled;
using testing::kOn;
using testing::Ramp;
using testing::Runs;
using testing::To;
using testing::Words;

// `device` and `host` run on `inputs`: both succeed, and the device's first output is the
// host's, within 1e-5 relative in float32 and 1e-12 in float64.
void ExpectNearTheHost(const compile::Executable& device, const compile::Executable& host,
                       const std::vector<Tensor>& inputs, const std::string& what) {
  auto got = device.Run(inputs, {});
  auto want = host.Run(inputs, {});
  ASSERT_TRUE(want.ok()) << what << ": " << want.status();
  ASSERT_TRUE(got.ok()) << what << ": " << got.status();
  if (want->outputs[0].dtype() == DType::kFloat32) {
    ExpectNear<float>(got->outputs[0], want->outputs[0], 1e-5, what);
  } else {
    ExpectNear<double>(got->outputs[0], want->outputs[0], 1e-12, what);
  }
}

// dot of a 3-d x and a matrix, and tensordots over blocks of leading or trailing dims (the
// gradients of that dot), of operands read contiguous or through transposing views.
std::shared_ptr<compile::Executable> Contraction(const std::string& where, const std::string& op,
                                                 std::vector<int64_t> axes_a,
                                                 std::vector<int64_t> axes_b, bool view) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* a = g->AddInput(ir::Type::Of(DType::kFloat32, 3), "a");
  ir::Variable* b = g->AddInput(ir::Type::Of(DType::kFloat32, op == "dot" ? 2 : 3), "b");
  g->inputs() = {a, b};
  ir::Variable* ad = To(*g, a, where);
  if (view) ad = Node(*g, "dimshuffle", {ad}, {{"new_order", std::vector<int64_t>{1, 0, 2}}});
  ir::Attrs attrs;
  if (op == "tensordot") attrs = {{"axes_a", std::move(axes_a)}, {"axes_b", std::move(axes_b)}};
  g->outputs() = {To(*g, Node(*g, op, {ad, To(*g, b, where)}, attrs), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ContractionsOfBlocksOfDimsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    const char* op;
    std::vector<int64_t> axes_a, axes_b;
    runtime::Shape b_shape;
  };
  // a is (4, 3, 5) as given, (3, 4, 5) through the view.
  for (bool view : {false, true}) {
    const runtime::Shape a_shape = view ? runtime::Shape{4, 3, 5} : runtime::Shape{3, 4, 5};
    for (const Case& c : std::vector<Case>{
             {"dot", {}, {}, {5, 6}},                   // (3, 4, 5) . (5, 6)
             {"tensordot", {0, 1}, {0, 1}, {3, 4, 2}},  // leading with leading: x^T y
             {"tensordot", {1, 2}, {1, 2}, {6, 4, 5}},  // trailing with trailing: x y^T
             {"tensordot", {2}, {0}, {5, 2, 2}}}) {     // trailing with leading
      SCOPED_TRACE(std::string(c.op) + " " + std::to_string(c.axes_a.size()) + " view " +
                   std::to_string(view));
      auto device = Contraction(kOn, c.op, c.axes_a, c.axes_b, view);
      auto host = Contraction("cpu", c.op, c.axes_a, c.axes_b, view);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      ExpectNearTheHost(*device, *host,
                        {Ramp(DType::kFloat32, a_shape, -3), Ramp(DType::kFloat32, c.b_shape, -2)},
                        std::string(c.op) + " view " + std::to_string(view));
    }
  }
}

// dot of vectors: matrix . vector, vector . matrix and vector . vector (a scalar), in both float
// dtypes, a vector read through a strided view (a column of a matrix), and an empty sum; outer
// products (a tensordot over no axes, as dot's gradient makes them); a misaligned pair refused in
// the host's words.
std::shared_ptr<compile::Executable> VectorProduct(const std::string& where, DType dtype,
                                                   int x_rank, int y_rank, bool column,
                                                   bool outer = false) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, column ? 2 : x_rank), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(dtype, y_rank), "y");
  g->inputs() = {x, y};
  ir::Variable* xd = To(*g, x, where);
  if (column) {  // x's column 1, a vector of stride x's row length
    xd = Node(*g, "dimshuffle", {xd}, {{"new_order", std::vector<int64_t>{1, 0}}});
    xd = Node(*g, "subtensor", {xd}, {{"idx_list", std::vector<int64_t>{0, 1, 0, 0}}});
  }
  ir::Attrs attrs;
  if (outer) attrs = {{"axes_a", std::vector<int64_t>{}}, {"axes_b", std::vector<int64_t>{}}};
  g->outputs() = {
      To(*g, Node(*g, outer ? "tensordot" : "dot", {xd, To(*g, y, where)}, attrs), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ProductsOfVectorsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    runtime::Shape x, y;
    bool column = false, outer = false;
  };
  const std::vector<Case> cases = {
      {{6, 5}, {5}},               // matrix . vector
      {{5}, {5, 7}},               // vector . matrix
      {{9}, {9}},                  // vector . vector: a scalar
      {{4, 0}, {0}},               // an empty sum: zeros
      {{0}, {0}},                  // an empty inner product: 0
      {{5, 3}, {5, 4}, true},      // a column of x (strided) . matrix
      {{6}, {4}, false, true},     // outer product of vectors
      {{2, 3}, {4}, false, true},  // ... of a matrix and a vector
      {{5, 3}, {2}, true, true}};  // ... of a strided column and a vector
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Case& c : cases) {
      const int x_rank = static_cast<int>(c.x.size()), y_rank = static_cast<int>(c.y.size());
      const std::string what =
          runtime::ShapeString(c.x) + " . " + runtime::ShapeString(c.y) + " " + DTypeName(dtype);
      auto device = VectorProduct(kOn, dtype, x_rank, y_rank, c.column, c.outer);
      auto host = VectorProduct("cpu", dtype, x_rank, y_rank, c.column, c.outer);
      ASSERT_NE(device, nullptr) << what;
      ASSERT_NE(host, nullptr) << what;
      EXPECT_TRUE(testing::RunsOnTheDevice(*device, c.outer ? "tensordot" : "dot")) << what;
      ExpectNearTheHost(*device, *host, {Ramp(dtype, c.x, -2), Ramp(dtype, c.y, -1.5)}, what);
    }
  }
  auto device = VectorProduct(kOn, DType::kFloat32, 2, 1, false);
  auto host = VectorProduct("cpu", DType::kFloat32, 2, 1, false);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  ExpectRefusedAsTheHost(*device, *host,
                         {Ramp(DType::kFloat32, {3, 4}, 0), Ramp(DType::kFloat32, {5}, 0)});
}

// A 2-d tensordot over transposed axes, misaligned: refused in the host's words, naming the
// operands as given and their real axes (not the transposed views the kernel multiplies).
TEST(TENSORD_PROVIDER_TEST_SUITE, TransposedTensordotErrorsAreTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  auto build = [](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "y");
    g->inputs() = {x, y};
    const ir::Attrs attrs = {{"axes_a", std::vector<int64_t>{0}},
                             {"axes_b", std::vector<int64_t>{1}}};
    g->outputs() = {
        To(*g, Node(*g, "tensordot", {To(*g, x, where), To(*g, y, where)}, attrs), "cpu")};
    return Compiled(std::move(g));
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Ramp(DType::kFloat32, {3, 4}, 0), y = Ramp(DType::kFloat32, {2, 5}, 0);
  ExpectRefusedAsTheHost(*device, *host, {x, y});
  auto ok = device->Run({x, Ramp(DType::kFloat32, {2, 3}, 0)}, {});
  EXPECT_TRUE(ok.ok()) << ok.status();
}

// batched_tensordot over any axes on `where`, x read through a view swapping its last two dims
// when `view`.
std::shared_ptr<compile::Executable> BatchedTensordot(const std::string& where, DType dtype,
                                                      int x_rank, int y_rank,
                                                      std::vector<int64_t> axes_a,
                                                      std::vector<int64_t> axes_b, bool view) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, x_rank), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(dtype, y_rank), "y");
  g->inputs() = {x, y};
  ir::Variable* xd = To(*g, x, where);
  if (view) {
    std::vector<int64_t> order(x_rank);
    for (int d = 0; d < x_rank; ++d) order[d] = d;
    std::swap(order[x_rank - 1], order[x_rank - 2]);
    xd = Node(*g, "dimshuffle", {xd}, {{"new_order", order}});
  }
  const ir::Attrs attrs = {{"axes_a", std::move(axes_a)}, {"axes_b", std::move(axes_b)}};
  g->outputs() = {To(*g, Node(*g, "batched_tensordot", {xd, To(*g, y, where)}, attrs), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, BatchedTensordotsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    runtime::Shape x, y;  // x as given (before the view)
    std::vector<int64_t> axes_a, axes_b;
    bool view = false;
  };
  const std::vector<Case> cases = {
      {{3, 4, 5}, {3, 5, 6}, {2}, {1}},              // batched_dot's
      {{3, 5, 4}, {3, 5, 6}, {1}, {1}},              // x^T y per item
      {{2, 3, 4, 5}, {2, 5, 4, 2}, {2, 3}, {2, 1}},  // two axes, paired out of order
      {{2, 3, 4, 5}, {2, 4, 2}, {3}, {1}, true},     // x through a view
      {{2, 6, 3}, {2, 3, 2, 2}, {-1}, {1}},          // a negative axis, y of more free dims
      {{2, 3, 0}, {2, 0, 4}, {2}, {1}},              // empty sums: zeros
      {{0, 3, 4}, {0, 4, 2}, {2}, {1}}};             // no items
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (const Case& c : cases) {
      const int xr = static_cast<int>(c.x.size()), yr = static_cast<int>(c.y.size());
      const std::string what = runtime::ShapeString(c.x) + " " + runtime::ShapeString(c.y) + " " +
                               DTypeName(dtype) + (c.view ? " view" : "");
      auto device = BatchedTensordot(kOn, dtype, xr, yr, c.axes_a, c.axes_b, c.view);
      auto host = BatchedTensordot("cpu", dtype, xr, yr, c.axes_a, c.axes_b, c.view);
      ASSERT_NE(device, nullptr) << what;
      ASSERT_NE(host, nullptr) << what;
      EXPECT_TRUE(testing::RunsOnTheDevice(*device, "batched_tensordot")) << what;
      ExpectNearTheHost(*device, *host, {Ramp(dtype, c.x, -3), Ramp(dtype, c.y, -2)}, what);
    }
  }
  // Summed dims of other sizes, and batches of other sizes, in the host's words.
  auto device = BatchedTensordot(kOn, DType::kFloat32, 3, 3, {2}, {1}, false);
  auto host = BatchedTensordot("cpu", DType::kFloat32, 3, 3, {2}, {1}, false);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  ExpectRefusedAsTheHost(
      *device, *host, {Ramp(DType::kFloat32, {2, 3, 4}, 0), Ramp(DType::kFloat32, {2, 5, 2}, 0)});
  ExpectRefusedAsTheHost(
      *device, *host, {Ramp(DType::kFloat32, {2, 3, 4}, 0), Ramp(DType::kFloat32, {3, 4, 2}, 0)});
}

// batched_dot(x, y) on `where`, x given as its dimshuffle `view` when not empty.
std::shared_ptr<compile::Executable> BatchedDot(const std::string& where, int x_rank, int y_rank,
                                                const std::vector<int64_t>& view) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat64, x_rank), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, y_rank), "y");
  g->inputs() = {x, y};
  ir::Variable* xd = To(*g, x, where);
  if (!view.empty()) xd = Node(*g, "dimshuffle", {xd}, {{"new_order", view}});
  g->outputs() = {To(*g, Node(*g, "batched_dot", {xd, To(*g, y, where)}), "cpu")};
  return Compiled(std::move(g));
}

// batched_dot of batches of vectors ((B, k) . (B, k) -> (B,), (B, m, k) . (B, k) -> (B, m),
// (B, k) . (B, k, n) -> (B, n); a vector batch read through a transposing view), of x with
// more dims than a matrix per item: its rows merged into one (a dim of one among them, of any
// stride), or packed first where a view keeps them from merging; and of y with more dims (its
// summed dim ndim - 2 packed first, its others the columns).
TEST(TENSORD_PROVIDER_TEST_SUITE, BatchedProductsOfVectorsAndOfMoreDimsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    runtime::Shape x, y;
    std::vector<int64_t> view;  // x given as this dimshuffle of it, when not empty
  };
  for (const Case& c :
       std::vector<Case>{{{4, 6}, {4, 6}, {}},
                         {{4, 3, 6}, {4, 6}, {}},
                         {{4, 6}, {4, 6, 5}, {}},
                         {{6, 4}, {4, 6, 5}, {1, 0}},
                         {{0, 6}, {0, 6}, {}},
                         {{3, 2, 4, 5}, {3, 5, 6}, {}},
                         {{3, 2, 4, 5}, {3, 5}, {}},
                         {{3, 4, 2, 5}, {3, 5, 6}, {0, 2, 1, 3}},  // rows that do not merge: packed
                         {{2, 1, 3, 2, 5}, {2, 5, 4}, {}},
                         {{3, 2, 5}, {3, 5, 6}, {0, 1, -1, 2}},  // a broadcast row dim of stride 0
                         {{3, 2, 1, 5}, {3, 5, 6}, {}},
                         {{3, 2, 1, 3, 5}, {3, 5, 6}, {}},  // a dim of one between rows
                         {{3, 3, 1, 2, 5}, {3, 5, 6}, {0, 3, 2, 1, 4}},  // ... not merging
                         // y of more dims: summed over its dim ndim - 2, its others the columns
                         {{3, 2, 5}, {3, 4, 5, 6}, {}},
                         {{3, 5}, {3, 2, 4, 5, 3}, {}},
                         {{3, 2, 4, 5}, {3, 1, 5, 2}, {}}}) {
    const int x_rank = static_cast<int>(c.x.size()), y_rank = static_cast<int>(c.y.size());
    auto device = BatchedDot(kOn, x_rank, y_rank, c.view);
    auto host = BatchedDot("cpu", x_rank, y_rank, c.view);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    EXPECT_TRUE(Runs(*device, "batched_dot"));
    ExpectNearTheHost(*device, *host,
                      {Ramp(DType::kFloat64, c.x, -2), Ramp(DType::kFloat64, c.y, 1)},
                      runtime::ShapeString(c.x) + " . " + runtime::ShapeString(c.y));
  }
  // Vectors of different lengths: the host's words.
  auto device = BatchedDot(kOn, 2, 2, {}), host = BatchedDot("cpu", 2, 2, {});
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Ramp(DType::kFloat64, {3, 4}, 0), y = Ramp(DType::kFloat64, {3, 5}, 0);
  auto refused = device->Run({x, y}, {});
  auto host_refused = host->Run({x, y}, {});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
}

// batched_dot by one strided batched gemm against the host's, an operand transposed per item
// (a dimshuffle view), empty sums and batches included; mismatched batches refused as there.
TEST(TENSORD_PROVIDER_TEST_SUITE, BatchedProductsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (bool transposed : {false, true}) {
    auto build = [&](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 3), "x");
      ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat32, 3), "y");
      g->inputs() = {x, y};
      ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", where}});
      ir::Variable* yd = Node(*g, "transfer", {y}, {{"target", where}});
      if (transposed) {  // y given as (B, m, k): each item read transposed
        yd = Node(*g, "dimshuffle", {yd}, {{"new_order", std::vector<int64_t>{0, 2, 1}}});
      }
      g->outputs() = {Node(*g, "transfer", {Node(*g, "batched_dot", {xd, yd})},
                           {{"target", std::string("cpu")}})};
      return Compiled(std::move(g));
    };
    auto device = build(kOn), host = build("cpu");
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    EXPECT_TRUE(Runs(*device, "batched_dot"));
    for (auto [items, m, k, n] : std::vector<std::array<int64_t, 4>>{
             {3, 5, 7, 4}, {1, 1, 9, 1}, {2, 3, 0, 2}, {0, 3, 4, 2}}) {
      const Tensor x = Filled({items, m, k}, 1.0f);
      const Tensor y = transposed ? Filled({items, n, k}, 0.5f) : Filled({items, k, n}, 0.5f);
      auto got = device->Run({x, y}, {});
      auto want = host->Run({x, y}, {});
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_EQ(got->outputs[0].shape(), want->outputs[0].shape());
      for (int64_t e = 0; e < want->outputs[0].num_elements(); ++e) {
        ASSERT_NEAR(got->outputs[0].data<float>()[e], want->outputs[0].data<float>()[e], 1e-5f)
            << items << "x" << m << "x" << k << "x" << n << " element " << e;
      }
    }
    const Tensor other_batch = transposed ? Filled({3, 2, 4}, 1.0f) : Filled({3, 4, 2}, 1.0f);
    auto refused = device->Run({Filled({2, 3, 4}, 1.0f), other_batch}, {});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(refused.status().message().find("batch sizes differ: 2 and 3"), std::string::npos)
        << refused.status();
  }
}

// dot by cuBLAS against the host's, empty sums and single rows included.
TEST(TENSORD_PROVIDER_TEST_SUITE, MatrixProductsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    auto build = [&](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(dtype, 2), "x");
      ir::Variable* y = g->AddInput(ir::Type::Of(dtype, 2), "y");
      g->inputs() = {x, y};
      ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", where}});
      ir::Variable* yd = Node(*g, "transfer", {y}, {{"target", where}});
      g->outputs() = {
          Node(*g, "transfer", {Node(*g, "dot", {xd, yd})}, {{"target", std::string("cpu")}})};
      return Compiled(std::move(g));
    };
    auto gpu = build(kOn), host = build("cpu");
    for (auto [m, k, n] : std::vector<std::array<int64_t, 3>>{
             {3, 5, 7}, {1, 4, 1}, {3, 0, 4}, {0, 3, 2}, {129, 257, 65}}) {
      Tensor x(dtype, {m, k}), y(dtype, {k, n});
      for (Tensor* t : {&x, &y}) {
        for (int64_t i = 0; i < t->num_elements(); ++i) {
          const double v = std::sin(0.37 * i) * 2;
          if (dtype == DType::kFloat32) {
            t->data<float>()[i] = static_cast<float>(v);
          } else {
            t->data<double>()[i] = v;
          }
        }
      }
      auto got = gpu->Run({x, y}, {});
      auto want = host->Run({x, y}, {});
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(want.ok()) << want.status();
      ASSERT_EQ(got->outputs[0].shape(), (runtime::Shape{m, n}));
      const double tol = dtype == DType::kFloat32 ? 1e-4 : 1e-12;  // sums of up to 257 terms
      for (int64_t i = 0; i < m * n; ++i) {
        const double g = dtype == DType::kFloat32 ? got->outputs[0].data<float>()[i]
                                                  : got->outputs[0].data<double>()[i];
        const double w = dtype == DType::kFloat32 ? want->outputs[0].data<float>()[i]
                                                  : want->outputs[0].data<double>()[i];
        ASSERT_NEAR(g, w, tol * std::max(1.0, std::abs(w))) << m << "x" << k << "x" << n;
      }
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
