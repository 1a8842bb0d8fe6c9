// Random streams, sorting and writes into views on a device (device_testing.h) against the
// host: the same state draws the same uniforms bit for bit and advances to the same state;
// normals agree within the device's math; sort and argsort give the host's result exactly
// (stable, NaN last); join, inc_subtensor, integer-array assignment and the arg reductions too,
// their errors in the host's words.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"
#include "engine/ops/defs/subtensor.h"
#include "engine/ops/node_builder.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;
using testing::Compiled;
using testing::kOn;

ir::Variable* To(ir::Graph& g, ir::Variable* v, const std::string& where) {
  return Node(g, "transfer", {v}, {{"target", where}});
}

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

// A state of `streams` streams, each seeded differently (components in range of both moduli).
Tensor State(int64_t streams, int32_t seed) {
  Tensor t(DType::kInt32, {streams, 6});
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    t.data<int32_t>()[i] = seed + static_cast<int32_t>(7919 * i % 1000003);
  }
  return t;
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

bool SameBytes(const Tensor& a, const Tensor& b) {
  return a.dtype() == b.dtype() && a.shape() == b.shape() &&
         std::memcmp(a.raw(), b.raw(), a.num_bytes()) == 0;
}

template <typename T>
void ExpectNear(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = got.data<T>()[i], w = want.data<T>()[i];
    ASSERT_NEAR(g, w, rtol * std::max(1.0, std::abs(w))) << what << " element " << i;
  }
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
        Tensor state = State(streams, 12345);
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

TEST(TENSORD_PROVIDER_TEST_SUITE, AStateReadThroughAViewDrawsAsItsCopy) {
  SKIP_WITHOUT_THE_DEVICE();
  auto device = Sampler(kOn, "mrg_uniform", DType::kFloat32, /*transposed=*/true);
  auto host = Sampler("cpu", "mrg_uniform", DType::kFloat32);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor state = State(9, 777);
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
                                                                   {State(2, 1), Size(2, -1)}}) {
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

// Values with ties, signed zeros, infinities and NaNs (in float dtypes), in a scrambled order.
Tensor Scrambled(DType dtype, runtime::Shape shape) {
  Tensor t(dtype, std::move(shape));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int64_t k = (i * 7919) % 23;  // 23 distinct keys: many ties
    double v = static_cast<double>(k) - 11.0;
    if (dtype == DType::kFloat32 || dtype == DType::kFloat64) {
      const double specials[] = {nan, -0.0, 0.0, inf, -inf, nan, 0.5};
      if (k < 7) v = specials[k];
    }
    switch (dtype) {
      case DType::kFloat32:
        t.data<float>()[i] = static_cast<float>(v);
        break;
      case DType::kFloat64:
        t.data<double>()[i] = v;
        break;
      case DType::kInt32:
        t.data<int32_t>()[i] = static_cast<int32_t>(v);
        break;
      case DType::kInt64:
        t.data<int64_t>()[i] = static_cast<int64_t>(v) * (int64_t{1} << 40);
        break;
      case DType::kUInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(k);
        break;
      case DType::kBool:
        t.data<bool>()[i] = k % 2 == 0;
        break;
      default:
        ADD_FAILURE() << "no values for " << DTypeName(dtype);
    }
  }
  return t;
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

// The words of an error after the node's label (whose operands' names differ by where).
std::string Words(const absl::Status& status) {
  const std::string m(status.message());
  return m.substr(m.rfind(": ") + 2);
}

Tensor Ramp(DType dtype, runtime::Shape shape, double start) {
  Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = start + 0.5 * i;
    if (dtype == DType::kFloat32) t.data<float>()[i] = static_cast<float>(v);
    if (dtype == DType::kFloat64) t.data<double>()[i] = v;
    if (dtype == DType::kInt32) t.data<int32_t>()[i] = static_cast<int32_t>(v);
  }
  return t;
}

// join(a, b^T, c; axis) on `where`, of a float32 a, an int32 b read through a transposing view
// and a float64 c: the output float64, each input converted as it is written.
std::shared_ptr<compile::Executable> Joiner(const std::string& where, int64_t axis) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* a = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "a");
  ir::Variable* b = g->AddInput(ir::Type::Of(DType::kInt32, 2), "b");
  ir::Variable* c = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "c");
  g->inputs() = {a, b, c};
  ir::Variable* bt =
      Node(*g, "dimshuffle", {To(*g, b, where)}, {{"new_order", std::vector<int64_t>{1, 0}}});
  g->outputs() = {
      To(*g, Node(*g, "join", {To(*g, a, where), bt, To(*g, c, where)}, {{"axis", axis}}), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, JoinMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (int64_t axis : {0, 1, -1}) {
    auto device = Joiner(kOn, axis), host = Joiner("cpu", axis);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    // Along axis 0 the blocks are (2, 3), (4, 3) and (0, 3); along axis 1 (3, 2), (3, 4), (3, 0).
    const bool rows = axis == 0;
    const Tensor a = Ramp(DType::kFloat32, rows ? runtime::Shape{2, 3} : runtime::Shape{3, 2}, -1);
    const Tensor b = Ramp(DType::kInt32, rows ? runtime::Shape{3, 4} : runtime::Shape{4, 3}, -3);
    const Tensor c = Ramp(DType::kFloat64, rows ? runtime::Shape{0, 3} : runtime::Shape{3, 0}, 0);
    auto got = device->Run({a, b, c}, {});
    auto want = host->Run({a, b, c}, {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << "axis " << axis;
    // Blocks that do not line up: refused before anything is written, in the host's words.
    const Tensor wide = Ramp(DType::kFloat32, {5, 5}, 0);
    auto refused = device->Run({wide, b, c}, {});
    auto host_refused = host->Run({wide, b, c}, {});
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
    EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
  }
}

// inc_subtensor(x, y, i; x[1:i, ::-2] or x[i, 1:]) on `where`, adding or setting a float64 y
// (converted as written) that broadcasts; the start i read on the host.
std::shared_ptr<compile::Executable> Incrementer(const std::string& where, bool set, bool row) {
  constexpr int64_t kNone = ops::subtensor::kIndexNone;
  constexpr int64_t kSymbolic = ops::subtensor::kIndexSymbolic;
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 3), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, row ? 1 : 3), "y");
  ir::Variable* i = g->AddInput(ir::Type::Scalar(DType::kInt64), "i");
  g->inputs() = {x, y, i};
  const std::vector<int64_t> index =
      row ? std::vector<int64_t>{0, kSymbolic, 0, 0, 1, 1, kNone, kNone}
          : std::vector<int64_t>{1, 1, kSymbolic, kNone, 1, kNone, kNone, -2};
  ir::Variable* inc = Node(*g, "inc_subtensor", {To(*g, x, where), To(*g, y, where), i},
                           {{"idx_list", index}, {"set_instead_of_inc", set}});
  g->outputs() = {To(*g, inc, "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, IncSubtensorMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor x = Ramp(DType::kFloat32, {5, 6, 4}, -7);
  for (bool set : {false, true}) {
    for (bool row : {false, true}) {
      auto device = Incrementer(kOn, set, row), host = Incrementer("cpu", set, row);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      // x[1:4, ::-2] is (3, 3, 4): y (3, 1, 4) broadcasts over its middle dim; x[i, 1:] is
      // (5, 4): y (4) over its rows.
      const Tensor y = row ? Ramp(DType::kFloat64, {4}, 0.25) : Ramp(DType::kFloat64, {3, 1, 4}, 1);
      for (int64_t start : {4, -1}) {
        Tensor i(DType::kInt64, {});
        *i.data<int64_t>() = start;
        auto got = device->Run({x, y, i}, {});
        auto want = host->Run({x, y, i}, {});
        const std::string what =
            std::string(set ? "set" : "inc") + (row ? " row " : " slice ") + std::to_string(start);
        ASSERT_TRUE(want.ok()) << what << ": " << want.status();
        ASSERT_TRUE(got.ok()) << what << ": " << got.status();
        EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what;
      }
      // A row past the end (a slice clips, as NumPy's does), and a value that does not
      // broadcast: the host's errors, before anything is written.
      auto expect_refused = [&](const Tensor& value, int64_t start) {
        Tensor i(DType::kInt64, {});
        *i.data<int64_t>() = start;
        auto refused = device->Run({x, value, i}, {});
        auto host_refused = host->Run({x, value, i}, {});
        ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
        EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
      };
      if (row) expect_refused(y, 6);
      expect_refused(row ? Ramp(DType::kFloat64, {3}, 0) : Ramp(DType::kFloat64, {2, 1, 4}, 0),
                     row ? 2 : 4);
    }
  }
}

// argmax, argmin or max_and_argmax (both outputs) of x over `axes` (all when empty) on `where`.
std::shared_ptr<compile::Executable> ArgReducer(const std::string& where, const std::string& op,
                                                DType dtype, int ndim, std::vector<int64_t> axes) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, ndim), "x");
  g->inputs() = {x};
  ir::Attrs attrs;
  if (!axes.empty()) attrs["axis"] = std::move(axes);
  ops::NodeBuilder b(*g);
  std::vector<ir::Variable*> outs = b.ApplyMulti(op, {To(*g, x, where)}, attrs);
  EXPECT_TRUE(b.status().ok()) << b.status();
  if (!b.status().ok()) return nullptr;
  for (ir::Variable*& v : outs) v = To(*g, v, "cpu");
  g->outputs() = outs;
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ArgReductionsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    DType dtype;
    runtime::Shape shape;
    std::vector<int64_t> axes;
  };
  const std::vector<Case> cases = {
      {DType::kFloat32, {4, 37, 5}, {1}},     // NaNs, ties, infinities along a middle axis
      {DType::kFloat32, {4, 37, 5}, {0, 2}},  // two axes: the index within them, C order
      {DType::kFloat64, {6, 10}, {-1}},       // a classifier's rows
      {DType::kFloat64, {6, 10}, {}},         // every axis: the flat index
      {DType::kInt32, {3, 257}, {1}},         // ties
      {DType::kUInt8, {5, 16}, {0}},
      // Long rows into few outputs: a block per output, folding in a tree.
      {DType::kFloat32, {3, 2000}, {1}},  // NaNs: the first
      {DType::kInt32, {2, 3000}, {-1}},   // ties: the first of the best
      {DType::kFloat64, {40, 50}, {}},    // every axis
  };
  for (const Case& c : cases) {
    for (const char* op : {"argmax", "argmin", "max_and_argmax"}) {
      const int ndim = static_cast<int>(c.shape.size());
      auto device = ArgReducer(kOn, op, c.dtype, ndim, c.axes);
      auto host = ArgReducer("cpu", op, c.dtype, ndim, c.axes);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      const Tensor x = Scrambled(c.dtype, c.shape);
      auto got = device->Run({x}, {});
      auto want = host->Run({x}, {});
      const std::string what =
          std::string(op) + " " + DTypeName(c.dtype) + " " + runtime::ShapeString(c.shape);
      ASSERT_TRUE(got.ok()) << what << ": " << got.status();
      ASSERT_TRUE(want.ok()) << what << ": " << want.status();
      for (size_t o = 0; o < want->outputs.size(); ++o) {
        EXPECT_TRUE(SameBytes(got->outputs[o], want->outputs[o])) << what << " output " << o;
      }
    }
  }
  // Over an empty axis there is no first element: refused in the host's words.
  auto device = ArgReducer(kOn, "argmax", DType::kFloat32, 2, {1});
  auto host = ArgReducer("cpu", "argmax", DType::kFloat32, 2, {1});
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor empty(DType::kFloat32, {3, 0});
  auto refused = device->Run({empty}, {});
  auto host_refused = host->Run({empty}, {});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
}

// x[i] = y (advanced_inc_subtensor1 with set_instead_of_inc) on `where`: a float32 x, a float64
// y converted as written, int64 rows.
std::shared_ptr<compile::Executable> RowSetter(const std::string& where) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, 2), "y");
  ir::Variable* i = g->AddInput(ir::Type::Of(DType::kInt64, 1), "i");
  g->inputs() = {x, y, i};
  ir::Variable* set =
      Node(*g, "advanced_inc_subtensor1", {To(*g, x, where), To(*g, y, where), To(*g, i, where)},
           {{"set_instead_of_inc", true}});
  g->outputs() = {To(*g, set, "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, AdvancedSetMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto device = RowSetter(kOn), host = RowSetter("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Ramp(DType::kFloat32, {6, 3}, -4);
  const Tensor y = Ramp(DType::kFloat64, {4, 3}, 10);
  auto rows = [](std::vector<int64_t> values) {
    Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
    std::copy(values.begin(), values.end(), t.data<int64_t>());
    return t;
  };
  // Distinct rows, negative ones counted from the end: the host's result exactly.
  auto got = device->Run({x, y, rows({4, -6, 1, 3})}, {});
  auto want = host->Run({x, y, rows({4, -6, 1, 3})}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0]));
  // Each element of a repeated row gets one of its values (which one is not defined on a GPU,
  // element by element); the other rows are x's.
  got = device->Run({x, y, rows({1, 3, 1, 1})}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  const float* out = got->outputs[0].data<float>();
  auto element_from = [&](int64_t r, int c, std::vector<int64_t> y_rows) {
    return std::any_of(y_rows.begin(), y_rows.end(), [&](int64_t k) {
      return out[3 * r + c] == static_cast<float>(y.data<double>()[3 * k + c]);
    });
  };
  for (int c = 0; c < 3; ++c) {
    EXPECT_TRUE(element_from(1, c, {0, 2, 3})) << "column " << c;
    EXPECT_TRUE(element_from(3, c, {1})) << "column " << c;
    for (int64_t r : {0, 2, 4, 5}) EXPECT_EQ(out[3 * r + c], x.data<float>()[3 * r + c]);
  }
  // A row past the end: the host's error.
  auto refused = device->Run({x, y, rows({0, 6, 1, 2})}, {});
  auto host_refused = host->Run({x, y, rows({0, 6, 1, 2})}, {});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
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
      const Tensor a = Ramp(DType::kFloat32, a_shape, -3), b = Ramp(DType::kFloat32, c.b_shape, -2);
      auto got = device->Run({a, b}, {});
      auto want = host->Run({a, b}, {});
      ASSERT_TRUE(got.ok()) << c.op << ": " << got.status();
      ASSERT_TRUE(want.ok()) << c.op << ": " << want.status();
      ExpectNear<float>(got->outputs[0], want->outputs[0], 1e-5,
                        std::string(c.op) + " view " + std::to_string(view));
    }
  }
}

// batched_dot of batches of vectors: (B, k) . (B, k) -> (B,), (B, m, k) . (B, k) -> (B, m) and
// (B, k) . (B, k, n) -> (B, n); a vector batch also read through a transposing view.
std::shared_ptr<compile::Executable> VectorBatches(const std::string& where, int x_rank, int y_rank,
                                                   bool view) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat64, x_rank), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, y_rank), "y");
  g->inputs() = {x, y};
  ir::Variable* xd = To(*g, x, where);
  if (view) xd = Node(*g, "dimshuffle", {xd}, {{"new_order", std::vector<int64_t>{1, 0}}});
  g->outputs() = {To(*g, Node(*g, "batched_dot", {xd, To(*g, y, where)}), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, BatchedProductsOfVectorsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    runtime::Shape x, y;
    bool view;  // x given as its (k, B) transpose
  };
  for (const Case& c : std::vector<Case>{{{4, 6}, {4, 6}, false},
                                         {{4, 3, 6}, {4, 6}, false},
                                         {{4, 6}, {4, 6, 5}, false},
                                         {{6, 4}, {4, 6, 5}, true},
                                         {{0, 6}, {0, 6}, false}}) {
    const int x_rank = static_cast<int>(c.x.size()), y_rank = static_cast<int>(c.y.size());
    auto device = VectorBatches(kOn, x_rank, y_rank, c.view);
    auto host = VectorBatches("cpu", x_rank, y_rank, c.view);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    const Tensor x = Ramp(DType::kFloat64, c.x, -2), y = Ramp(DType::kFloat64, c.y, 1);
    auto got = device->Run({x, y}, {});
    auto want = host->Run({x, y}, {});
    const std::string what = runtime::ShapeString(c.x) + " . " + runtime::ShapeString(c.y);
    ASSERT_TRUE(got.ok()) << what << ": " << got.status();
    ASSERT_TRUE(want.ok()) << what << ": " << want.status();
    ExpectNear<double>(got->outputs[0], want->outputs[0], 1e-12, what);
  }
  // Vectors of different lengths: the host's words.
  auto device = VectorBatches(kOn, 2, 2, false), host = VectorBatches("cpu", 2, 2, false);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Ramp(DType::kFloat64, {3, 4}, 0), y = Ramp(DType::kFloat64, {3, 5}, 0);
  auto refused = device->Run({x, y}, {});
  auto host_refused = host->Run({x, y}, {});
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_EQ(Words(refused.status()), Words(host_refused.status()));
}

// prod over some axes or all of them, of values near 1 (the product neither overflows nor
// vanishes), folded in double as on the host; an empty product is 1.
std::shared_ptr<compile::Executable> Product(const std::string& where, DType dtype,
                                             std::vector<int64_t> axes) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, 2), "x");
  g->inputs() = {x};
  ir::Attrs attrs;
  if (!axes.empty()) attrs["axis"] = std::move(axes);
  g->outputs() = {To(*g, Node(*g, "prod", {To(*g, x, where)}, attrs), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ProductsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
    for (std::vector<int64_t> axes : std::vector<std::vector<int64_t>>{{1}, {0}, {}}) {
      auto device = Product(kOn, dtype, axes), host = Product("cpu", dtype, axes);
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      for (runtime::Shape shape : {runtime::Shape{4, 300}, runtime::Shape{3, 0}}) {
        Tensor x(dtype, shape);
        for (int64_t i = 0; i < x.num_elements(); ++i) {
          const double v = 1.0 + 0.01 * std::sin(0.37 * static_cast<double>(i));
          if (dtype == DType::kFloat32) x.data<float>()[i] = static_cast<float>(v);
          if (dtype == DType::kFloat64) x.data<double>()[i] = v;
        }
        auto got = device->Run({x}, {});
        auto want = host->Run({x}, {});
        const std::string what = std::string(DTypeName(dtype)) + " " + runtime::ShapeString(shape) +
                                 " axes " + std::to_string(axes.size());
        ASSERT_TRUE(got.ok()) << what << ": " << got.status();
        ASSERT_TRUE(want.ok()) << what << ": " << want.status();
        if (dtype == DType::kFloat32) {
          ExpectNear<float>(got->outputs[0], want->outputs[0], 1e-6, what);
        } else {
          ExpectNear<double>(got->outputs[0], want->outputs[0], 1e-13, what);
        }
      }
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
