// Reductions on a device (device_testing.h) against the host: argmax and its kin (first NaN,
// else first of the best), var and std, cumsum and cumprod, and prod; their errors in the
// host's words.
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
using testing::kOn;
using testing::Ramp;
using testing::SameBytes;
using testing::Scrambled;
using testing::To;
using testing::Words;

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

// var and std over axes of values of several dtypes (through a transposing view too), with
// ddof and Theano's corrected form, against the host; over no element NaN, with ddof past the
// count inf, as NumPy gives them.
TEST(TENSORD_PROVIDER_TEST_SUITE, VarianceAndDeviationMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    const char* op;
    DType dtype;
    runtime::Shape shape;
    ir::Attrs attrs;
    bool view;
  };
  const ir::Attrs rows = {{"axis", std::vector<int64_t>{1}}};
  const std::vector<Case> cases = {
      {"var", DType::kFloat32, {6, 700}, rows, false},  // rows longer than a block
      {"std", DType::kFloat64, {5, 4, 3}, {{"axis", std::vector<int64_t>{0, 2}}}, false},
      {"var", DType::kFloat32, {7, 9}, {{"ddof", int64_t{1}}, {"corrected", true}}, true},
      {"std",
       DType::kInt32,
       {4, 10},
       {{"axis", std::vector<int64_t>{0}}, {"ddof", int64_t{2}}},
       false},
      {"var", DType::kBool, {3, 8}, rows, false},
      {"var", DType::kFloat64, {3, 0}, rows, false},  // no element: NaN
      {"std",
       DType::kFloat32,
       {3, 2},
       {{"axis", std::vector<int64_t>{1}}, {"ddof", int64_t{3}}},
       false},  // ddof > n: inf
  };
  for (const Case& c : cases) {
    auto build = [&](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(c.dtype, static_cast<int>(c.shape.size())), "x");
      g->inputs() = {x};
      ir::Variable* v = To(*g, x, where);
      if (c.view) v = Node(*g, "dimshuffle", {v}, {{"new_order", std::vector<int64_t>{1, 0}}});
      g->outputs() = {To(*g, Node(*g, c.op, {v}, c.attrs), "cpu")};
      return Compiled(std::move(g));
    };
    auto device = build(kOn), host = build("cpu");
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    // Float values far from zero mean (the two passes matter), integers and bools as they come.
    const bool real = c.dtype == DType::kFloat32 || c.dtype == DType::kFloat64;
    Tensor x = real ? Ramp(c.dtype, c.shape, 1000) : Scrambled(c.dtype, c.shape);
    for (int64_t i = 0; i < x.num_elements() && c.dtype == DType::kFloat32; ++i)
      x.data<float>()[i] += static_cast<float>((i * 7919) % 13);
    auto got = device->Run({x}, {});
    auto want = host->Run({x}, {});
    const std::string what = std::string(c.op) + " " + DTypeName(c.dtype);
    ASSERT_TRUE(got.ok()) << what << ": " << got.status();
    ASSERT_TRUE(want.ok()) << what << ": " << want.status();
    const Tensor& g = got->outputs[0];
    const Tensor& w = want->outputs[0];
    ASSERT_EQ(g.dtype(), w.dtype()) << what;
    ASSERT_EQ(g.shape(), w.shape()) << what;
    for (int64_t i = 0; i < w.num_elements(); ++i) {
      const double gv = g.dtype() == DType::kFloat32 ? g.data<float>()[i] : g.data<double>()[i];
      const double wv = w.dtype() == DType::kFloat32 ? w.data<float>()[i] : w.data<double>()[i];
      if (std::isnan(wv) || std::isinf(wv)) {
        EXPECT_TRUE(std::isnan(wv) ? std::isnan(gv) : gv == wv) << what << " " << i;
      } else {
        EXPECT_NEAR(gv, wv, 1e-6 * std::max(1.0, std::abs(wv))) << what << " " << i;
      }
    }
  }
}

// cumsum and cumprod along each axis and flattened, of values read through a transposing view
// too, against the host's values exactly (the same order of folds in the same dtype).
TEST(TENSORD_PROVIDER_TEST_SUITE, CumulativeSumsAndProductsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (const char* mode : {"add", "mul"}) {
    for (std::optional<int64_t> axis : {std::optional<int64_t>(0), std::optional<int64_t>(1),
                                        std::optional<int64_t>(-1), std::optional<int64_t>()}) {
      for (bool view : {false, true}) {
        for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
          auto build = [&](const std::string& where) {
            auto g = std::make_unique<ir::Graph>();
            ir::Variable* x = g->AddInput(ir::Type::Of(dtype, 3), "x");
            g->inputs() = {x};
            ir::Variable* v = To(*g, x, where);
            if (view) {
              v = Node(*g, "dimshuffle", {v}, {{"new_order", std::vector<int64_t>{2, 0, 1}}});
            }
            ir::Attrs attrs = {{"mode", std::string(mode)}};
            if (axis) attrs["axis"] = *axis;
            g->outputs() = {To(*g, Node(*g, "cumop", {v}, attrs), "cpu")};
            return Compiled(std::move(g));
          };
          auto device = build(kOn), host = build("cpu");
          ASSERT_NE(device, nullptr);
          ASSERT_NE(host, nullptr);
          for (const runtime::Shape& shape : {runtime::Shape{3, 5, 7}, runtime::Shape{2, 0, 3}}) {
            // Values near 1 keep the products finite; a NaN and an infinity run through.
            Tensor x(dtype, shape);
            for (int64_t i = 0; i < x.num_elements(); ++i) {
              const double v = 0.9 + 0.01 * static_cast<double>((i * 7919) % 23);
              if (dtype == DType::kFloat32) x.data<float>()[i] = static_cast<float>(v);
              if (dtype == DType::kFloat64) x.data<double>()[i] = v;
            }
            if (x.num_elements() > 40 && dtype == DType::kFloat64) {
              x.data<double>()[17] = std::numeric_limits<double>::quiet_NaN();
              x.data<double>()[40] = std::numeric_limits<double>::infinity();
            } else if (x.num_elements() > 40) {
              x.data<float>()[23] = std::numeric_limits<float>::quiet_NaN();
              x.data<float>()[41] = -std::numeric_limits<float>::infinity();
            }
            auto got = device->Run({x}, {});
            auto want = host->Run({x}, {});
            const std::string what = std::string(mode) + " axis " +
                                     (axis ? std::to_string(*axis) : "None") + " " +
                                     DTypeName(dtype) + " " + runtime::ShapeString(shape);
            ASSERT_TRUE(got.ok()) << what << ": " << got.status();
            ASSERT_TRUE(want.ok()) << what << ": " << want.status();
            // The host's values; a NaN is a NaN (a GPU makes its own).
            const Tensor& g = got->outputs[0];
            const Tensor& w = want->outputs[0];
            ASSERT_EQ(g.shape(), w.shape()) << what;
            for (int64_t i = 0; i < w.num_elements(); ++i) {
              const double gv = dtype == DType::kFloat32 ? g.data<float>()[i] : g.data<double>()[i];
              const double wv = dtype == DType::kFloat32 ? w.data<float>()[i] : w.data<double>()[i];
              ASSERT_TRUE(gv == wv || (std::isnan(gv) && std::isnan(wv)))
                  << what << " element " << i << ": " << gv << " vs " << wv;
            }
          }
        }
      }
    }
  }
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
