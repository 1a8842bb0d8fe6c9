// Dtype conversions on a device (device_testing.h) against the host: integer and bool
// comparisons, exact integer casts, and reductions whose value has another dtype than their float
// result.
#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;
using testing::Compiled;
using testing::ExpectNear;
using testing::Filled;
using testing::kOn;
using testing::SameBytes;
using testing::Scrambled;
using testing::To;

// Comparisons of integers (an accuracy's neq(argmax, y): int64 against int32) and of bools, on
// the device, against the host, bit for bit; int64 values no float tells apart from an int32
// stay apart.
TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerComparisonsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (const char* op : {"eq", "neq", "lt", "le", "gt", "ge"}) {
    for (auto [a, b] : {std::pair{DType::kInt64, DType::kInt32},
                        {DType::kInt64, DType::kInt64},
                        {DType::kUInt8, DType::kUInt8},
                        {DType::kBool, DType::kBool}}) {
      auto build = [&, a = a, b = b](const std::string& where) {
        auto g = std::make_unique<ir::Graph>();
        ir::Variable* x = g->AddInput(ir::Type::Of(a, 2), "x");
        ir::Variable* y = g->AddInput(ir::Type::Of(b, 2), "y");
        g->inputs() = {x, y};
        ir::Variable* c = Node(*g, op, {To(*g, x, where), To(*g, y, where)});
        g->outputs() = {To(*g, c, "cpu")};
        return Compiled(std::move(g));
      };
      auto device = build(kOn), host = build("cpu");
      ASSERT_NE(device, nullptr);
      ASSERT_NE(host, nullptr);
      // y is the values of x's kind in reverse order: ties, and pairs in either order.
      Tensor x = Scrambled(a, {7, 13});
      const Tensor values = Scrambled(b, {7, 13});
      Tensor y(b, {7, 13});
      const size_t size = DTypeSize(b);
      for (int64_t i = 0; i < y.num_elements(); ++i) {
        std::memcpy(static_cast<char*>(y.raw()) + i * size,
                    static_cast<const char*>(values.raw()) + (y.num_elements() - 1 - i) * size,
                    size);
      }
      if (a == DType::kInt64 && b == DType::kInt64) {  // neighbours no double tells apart
        const int64_t top = std::numeric_limits<int64_t>::max(), big = (int64_t{1} << 53) + 1;
        const int64_t pairs[][2] = {{big, big - 1}, {top, top - 1}, {big - 1, big}, {top, top}};
        for (int i = 0; i < 4; ++i) {
          x.data<int64_t>()[i] = pairs[i][0];
          y.data<int64_t>()[i] = pairs[i][1];
        }
      }
      auto got = device->Run({x, y}, {});
      auto want = host->Run({x, y}, {});
      ASSERT_TRUE(got.ok()) << op << ": " << got.status();
      ASSERT_TRUE(want.ok()) << op << ": " << want.status();
      EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << op << " " << DTypeName(a);
    }
  }
}

// Exact integer casts on the device (a bool mask into int64, narrow integers widened), against
// the host, bit for bit.
TEST(TENSORD_PROVIDER_TEST_SUITE, WideningIntegerCastsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (auto [from, to] : {std::pair{DType::kBool, DType::kInt64},
                          {DType::kInt32, DType::kInt64},
                          {DType::kUInt8, DType::kInt32},
                          {DType::kBool, DType::kUInt8}}) {
    auto build = [&, from = from, to = to](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(from, 2), "x");
      g->inputs() = {x};
      g->outputs() = {To(*g, Node(*g, "cast", {To(*g, x, where)}, {{"dtype", to}}), "cpu")};
      return Compiled(std::move(g));
    };
    auto device = build(kOn), host = build("cpu");
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    Tensor x = Scrambled(from, {9, 11});
    if (from == DType::kInt32) {
      x.data<int32_t>()[0] = std::numeric_limits<int32_t>::min();
      x.data<int32_t>()[1] = std::numeric_limits<int32_t>::max();
    }
    auto got = device->Run({x}, {});
    auto want = host->Run({x}, {});
    ASSERT_TRUE(got.ok()) << DTypeName(from) << ": " << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0]))
        << DTypeName(from) << " into " << DTypeName(to);
  }
}

// Reductions of a value of another dtype than their float result, converted as read as the
// host casts before folding: the mean of bools (an accuracy) and of int32s over one axis and
// all, a float32 sum into float64.
TEST(TENSORD_PROVIDER_TEST_SUITE, ReductionsConvertingTheirValueMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    const char* op;
    DType dtype;
    ir::Attrs attrs;
  };
  const ir::Attrs rows = {{"axis", std::vector<int64_t>{1}}};
  for (const Case& c : std::vector<Case>{
           {"mean", DType::kBool, {}},
           {"mean", DType::kBool, rows},
           {"mean", DType::kInt32, rows},
           {"mean", DType::kInt64, {}},
           {"sum",
            DType::kFloat32,
            {{"axis", std::vector<int64_t>{0}}, {"dtype", DType::kFloat64}}},
       }) {
    auto build = [&](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(c.dtype, 2), "x");
      g->inputs() = {x};
      g->outputs() = {To(*g, Node(*g, c.op, {To(*g, x, where)}, c.attrs), "cpu")};
      return Compiled(std::move(g));
    };
    auto device = build(kOn), host = build("cpu");
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    const Tensor x =
        c.dtype == DType::kFloat32 ? Filled({300, 7}, 3.0f) : Scrambled(c.dtype, {300, 7});
    auto got = device->Run({x}, {});
    auto want = host->Run({x}, {});
    ASSERT_TRUE(got.ok()) << c.op << " " << DTypeName(c.dtype) << ": " << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    ASSERT_EQ(got->outputs[0].dtype(), want->outputs[0].dtype());
    if (want->outputs[0].dtype() == DType::kFloat64) {
      ExpectNear<double>(got->outputs[0], want->outputs[0], 1e-12, c.op);
    } else {
      ExpectNear<float>(got->outputs[0], want->outputs[0], 1e-6, c.op);
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
