// Writes into views on a device (device_testing.h) against the host: join, inc_subtensor,
// integer-array assignment, tile and repeat, their errors in the host's words.
#include <gtest/gtest.h>

#include <algorithm>
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
using testing::ExpectRefusedAsTheHost;
using testing::kOn;
using testing::Ramp;
using testing::Runs;
using testing::SameBytes;
using testing::Scrambled;
using testing::To;
using testing::Words;

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

// tile(x; reps) or repeat(x, count; axis) of a 2-d x, read through a transposing view when
// `view`, on `where`.
std::shared_ptr<compile::Executable> Copier(const std::string& where, DType dtype,
                                            const ir::Attrs& attrs, bool repeat, bool view) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, 2), "x");
  g->inputs() = {x};
  ir::Variable* placed = To(*g, x, where);
  if (view) {
    placed = Node(*g, "dimshuffle", {placed}, {{"new_order", std::vector<int64_t>{1, 0}}});
  }
  ir::Variable* y;
  if (repeat) {
    ir::Variable* count = g->AddInput(ir::Type::Scalar(DType::kInt32), "count");
    g->inputs().push_back(count);
    y = Node(*g, "repeat", {placed, count}, attrs);
  } else {
    y = Node(*g, "tile", {placed}, attrs);
  }
  g->outputs() = {To(*g, y, "cpu")};
  return Compiled(std::move(g));
}

Tensor Count(int32_t c) {
  Tensor t(DType::kInt32, {});
  *t.data<int32_t>() = c;
  return t;
}

TEST(TENSORD_PROVIDER_TEST_SUITE, TileAndRepeatMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const ir::Attrs axis0 = {{"axis", int64_t{0}}}, axis1 = {{"axis", int64_t{-1}}}, flat = {};
  struct Case {
    const char* what;
    ir::Attrs attrs;
    bool repeat;
    int32_t count;
  };
  const std::vector<Case> cases = {
      {"tile 2x3", {{"reps", std::vector<int64_t>{2, 3}}}, false, 0},
      {"tile into 4 dims", {{"reps", std::vector<int64_t>{2, 1, 1, 2}}}, false, 0},
      {"tile one rep", {{"reps", std::vector<int64_t>{3}}}, false, 0},
      {"tile zero reps", {{"reps", std::vector<int64_t>{0, 2}}}, false, 0},
      {"repeat rows", axis0, true, 3},
      {"repeat columns (upsampling)", axis1, true, 2},
      {"repeat flattened", flat, true, 2},
      {"repeat none", axis0, true, 0},
  };
  for (const Case& c : cases) {
    for (bool view : {false, true}) {
      for (DType dtype : {DType::kFloat32, DType::kInt64}) {
        const std::string what =
            std::string(c.what) + (view ? " through a view " : " ") + DTypeName(dtype);
        auto device = Copier(kOn, dtype, c.attrs, c.repeat, view);
        auto host = Copier("cpu", dtype, c.attrs, c.repeat, view);
        ASSERT_NE(device, nullptr) << what;
        ASSERT_NE(host, nullptr) << what;
        std::vector<Tensor> in = {Scrambled(dtype, {3, 4})};
        if (c.repeat) in.push_back(Count(c.count));
        auto got = device->Run(in, {});
        auto want = host->Run(in, {});
        ASSERT_TRUE(got.ok()) << what << ": " << got.status();
        ASSERT_TRUE(want.ok()) << what << ": " << want.status();
        EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what;
      }
    }
  }
  // A negative count, and one whose output length overflows, refused in the host's words.
  auto device = Copier(kOn, DType::kFloat32, axis0, true, false);
  auto host = Copier("cpu", DType::kFloat32, axis0, true, false);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  for (int32_t count : {-1, std::numeric_limits<int32_t>::max()}) {
    const int64_t rows = count < 0 ? 3 : int64_t{1} << 33;  // an empty x of many rows
    const std::vector<Tensor> in = {Tensor(DType::kFloat32, {rows, count < 0 ? 4 : 0}),
                                    Count(count)};
    ExpectRefusedAsTheHost(*device, *host, in);
  }
}

// repeat(x, counts; axis) with a count per entry (zeros among them) along each axis and
// flattened, x read through a transposing view too, against the host's bytes; counts of the
// wrong length or negative refused in the host's words.
TEST(TENSORD_PROVIDER_TEST_SUITE, RepeatWithACountPerEntryMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    ir::Attrs attrs;
    std::vector<int64_t> counts;  // for x of shape (3, 4), or its (4, 3) view
  };
  const std::vector<Case> cases = {{{{"axis", int64_t{0}}}, {2, 0, 3}},
                                   {{{"axis", int64_t{1}}}, {1, 0, 2, 3}},
                                   {{}, {0, 1, 2, 3, 1, 0, 2, 1, 1, 3, 0, 2}}};
  for (const Case& c : cases) {
    for (bool view : {false, true}) {
      const int64_t axis = c.attrs.empty() ? -1 : std::get<int64_t>(c.attrs.at("axis"));
      if (view && axis >= 0) continue;  // a (4, 3) view takes other counts; flattened only
      auto build = [&](const std::string& where) {
        auto g = std::make_unique<ir::Graph>();
        ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
        ir::Variable* counts = g->AddInput(ir::Type::Of(DType::kInt64, 1), "counts");
        g->inputs() = {x, counts};
        ir::Variable* placed = To(*g, x, where);
        if (view) {
          placed = Node(*g, "dimshuffle", {placed}, {{"new_order", std::vector<int64_t>{1, 0}}});
        }
        g->outputs() = {To(*g, Node(*g, "repeat", {placed, counts}, c.attrs), "cpu")};
        return Compiled(std::move(g));
      };
      auto device = build(kOn), host = build("cpu");
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      Tensor counts(DType::kInt64, {static_cast<int64_t>(c.counts.size())});
      std::copy(c.counts.begin(), c.counts.end(), counts.data<int64_t>());
      const std::vector<Tensor> in = {Scrambled(DType::kFloat32, {3, 4}), counts};
      auto got = device->Run(in, {});
      auto want = host->Run(in, {});
      ASSERT_TRUE(got.ok()) << got.status();
      ASSERT_TRUE(want.ok()) << want.status();
      EXPECT_TRUE(Runs(*device, "repeat"));
      EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0]))
          << "axis " << axis << (view ? " through a view" : "");
      if (axis != 0 || view) continue;
      for (std::vector<int64_t> bad : {std::vector<int64_t>{1, 2}, {1, -1, 2}}) {
        Tensor wrong(DType::kInt64, {static_cast<int64_t>(bad.size())});
        std::copy(bad.begin(), bad.end(), wrong.data<int64_t>());
        ExpectRefusedAsTheHost(*device, *host, {in[0], wrong});
      }
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
