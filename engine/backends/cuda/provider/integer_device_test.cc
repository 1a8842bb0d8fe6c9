// Integer arithmetic on a device (device_testing.h) against the host, bit for bit: the fusable
// ops in every integer dtype and bool, wrapping as NumPy's, over values at both ends of each
// dtype's range; integer casts, narrowing ones included; integer folds, and all and any.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;
using testing::Compiled;
using testing::kOn;
using testing::SameBytesAnyNaN;
using testing::To;

constexpr DType kIntegers[] = {DType::kInt8,  DType::kInt16,  DType::kInt32,  DType::kInt64,
                               DType::kUInt8, DType::kUInt16, DType::kUInt32, DType::kUInt64};

// Values of `dtype` (its low bytes of each int64; a float's are any bits, NaN and infinities
// among them): its extremes and their neighbours, small values (exponents of pow among them)
// and random bits, in an order set by `seed`, so that two operands pair them differently.
Tensor Edgy(DType dtype, const runtime::Shape& shape, uint64_t seed) {
  Tensor t(dtype, shape);
  const int64_t n = t.num_elements();
  const size_t size = DTypeSize(dtype);
  const int bits = static_cast<int>(size * 8);
  const bool is_signed = IsSignedInt(dtype);
  const uint64_t top = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  // The largest and smallest of the dtype, as their low bytes.
  const uint64_t max = is_signed ? top >> 1 : top, min = is_signed ? (top >> 1) + 1 : 0;
  const uint64_t specials[] = {min,
                               min + 1,
                               max,
                               max - 1,
                               0,
                               1,
                               2,
                               3,
                               7,
                               UINT64_MAX /* -1 */,
                               UINT64_MAX - 1,
                               UINT64_MAX - 2,
                               63,
                               64};
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t pick = rng() % 3 == 0 ? rng() : specials[rng() % std::size(specials)];
    if (dtype == DType::kBool) pick &= 1;                              // a bool's byte is 0 or 1
    std::memcpy(static_cast<char*>(t.raw()) + i * size, &pick, size);  // little-endian: low bytes
  }
  return t;
}

// One node: its op, its inputs' dtypes, its attributes, its inputs' shape.
struct Op {
  std::string name;
  std::vector<DType> dtypes;
  ir::Attrs attrs = {};
  runtime::Shape shape = {4099};
};

// Every node of `ops` on the device and on the host (one graph each, so one compile), each
// giving the same bytes (any NaN the same NaN: a GPU makes its own).
void ExpectSameAsTheHost(const std::vector<Op>& ops) {
  auto build = [&](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    for (const Op& op : ops) {
      std::vector<ir::Variable*> ins;
      for (DType d : op.dtypes) {
        g->inputs().push_back(g->AddInput(ir::Type::Of(d, static_cast<int>(op.shape.size())), "x"));
        ins.push_back(To(*g, g->inputs().back(), where));
      }
      g->outputs().push_back(To(*g, Node(*g, op.name, ins, op.attrs), "cpu"));
    }
    return Compiled(std::move(g));
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  std::vector<Tensor> inputs;
  for (const Op& op : ops) {
    for (size_t k = 0; k < op.dtypes.size(); ++k) {
      inputs.push_back(Edgy(op.dtypes[k], op.shape, 11 + k));
    }
  }
  auto got = device->Run(inputs, {});
  auto want = host->Run(inputs, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  for (size_t i = 0; i < ops.size(); ++i) {
    ASSERT_EQ(got->outputs[i].dtype(), want->outputs[i].dtype()) << ops[i].name;
    EXPECT_TRUE(SameBytesAnyNaN(got->outputs[i], want->outputs[i]))
        << ops[i].name << " of " << DTypeName(ops[i].dtypes.back()) << " differs from the host's";
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerArithmeticWrapsAsTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  for (DType d : kIntegers) {
    std::vector<Op> ops;
    for (const char* op : {"add", "sub", "mul", "pow", "maximum", "minimum"}) {
      ops.push_back({op, {d, d}});
    }
    for (const char* op : {"neg", "abs", "sgn", "sqr", "round_half_to_even", "isnan"}) {
      ops.push_back({op, {d}});
    }
    ops.push_back({"clip", {d, d, d}});
    ops.push_back({"switch", {DType::kBool, d, d}});
    // The lone ops: by zero and -1, the most negative value among the dividends.
    for (const char* op : {"int_div", "mod", "and", "or", "xor"}) ops.push_back({op, {d, d}});
    ops.push_back({"invert", {d}});
    ExpectSameAsTheHost(ops);
  }
  // NumPy's bool arithmetic: a sum is or, a product and.
  std::vector<Op> logic;
  for (const char* op : {"add", "mul", "pow", "maximum", "minimum"}) {
    logic.push_back({op, {DType::kBool, DType::kBool}});
  }
  for (const char* op : {"abs", "sqr"}) logic.push_back({op, {DType::kBool}});
  logic.push_back({"clip", {DType::kBool, DType::kBool, DType::kBool}});
  logic.push_back({"switch", {DType::kBool, DType::kBool, DType::kBool}});
  for (const char* op : {"and", "or", "xor"}) logic.push_back({op, {DType::kBool, DType::kBool}});
  logic.push_back({"invert", {DType::kBool}});
  ExpectSameAsTheHost(logic);
  // Mixed dtypes: the narrower converted as read, as the host casts it first.
  ExpectSameAsTheHost({{"add", {DType::kInt32, DType::kInt64}},
                       {"mul", {DType::kUInt8, DType::kInt16}},
                       {"add", {DType::kBool, DType::kInt32}}});
}

TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerCastsWrapAsTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  for (DType from : kIntegers) {
    std::vector<Op> casts;
    for (DType to : kIntegers) casts.push_back({"cast", {from}, {{"dtype", to}}});
    ExpectSameAsTheHost(casts);
  }
  ExpectSameAsTheHost({{"cast", {DType::kBool}, {{"dtype", DType::kUInt16}}}});
}

// NumPy's floor division and remainder of floats (npy_divmod: the quotient snapped to an
// integer, the remainder with the divisor's sign) over any bits, NaN, infinities, zeros of both
// signs and subnormals among them, bit for bit.
TEST(TENSORD_PROVIDER_TEST_SUITE, FloatFloorDivisionAndRemainderMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::vector<Op> ops;
  for (DType d : {DType::kFloat32, DType::kFloat64}) {
    for (const char* op : {"int_div", "mod"}) ops.push_back({op, {d, d}});
  }
  ExpectSameAsTheHost(ops);
}

// Integer cumsum and cumprod along an axis and flattened, wrapping as the host's; of bools; a
// few long lanes in segments.
TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerCumopsWrapAsTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  std::vector<Op> scans;  // the narrower ones (and a bool mask: positions) scan into int64
  for (DType d :
       {DType::kBool, DType::kInt8, DType::kInt32, DType::kInt64, DType::kUInt16, DType::kUInt64}) {
    for (const char* mode : {"add", "mul"}) {
      scans.push_back(
          {"cumop", {d}, {{"axis", int64_t{1}}, {"mode", std::string(mode)}}, {7, 301}});
      scans.push_back({"cumop", {d}, {{"mode", std::string(mode)}}, {7, 301}});
      // Few long lanes, scanned in segments: along rows, along columns (strided), flattened.
      scans.push_back(
          {"cumop", {d}, {{"axis", int64_t{1}}, {"mode", std::string(mode)}}, {3, 5000}});
      scans.push_back(
          {"cumop", {d}, {{"axis", int64_t{0}}, {"mode", std::string(mode)}}, {4500, 2}});
      scans.push_back({"cumop", {d}, {{"mode", std::string(mode)}}, {3, 3001}});
    }
  }
  ExpectSameAsTheHost(scans);
}

// Integer folds over every element, over long rows (a block per output) and over columns (a
// thread per output), wrapping as the host's fold in the result's dtype; the int64 sum of a bool
// mask; all and any of floats (NaN is true), integers and bools.
TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerFoldsWrapAsTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  const ir::Attrs rows = {{"axis", std::vector<int64_t>{1}}};
  const ir::Attrs columns = {{"axis", std::vector<int64_t>{0}}};
  for (DType d : {DType::kInt8, DType::kInt32, DType::kInt64, DType::kUInt8, DType::kUInt64}) {
    std::vector<Op> folds;
    for (const char* op : {"sum", "prod", "max", "min"}) {
      folds.push_back({op, {d}, {}, {61, 67}});
      folds.push_back({op, {d}, rows, {3, 5003}});
      folds.push_back({op, {d}, columns, {7, 3001}});
    }
    ExpectSameAsTheHost(folds);
  }
  std::vector<Op> truths = {{"sum", {DType::kBool}, {}, {61, 67}},
                            {"sum", {DType::kBool}, rows, {3, 5003}}};
  for (DType d : {DType::kBool, DType::kInt16, DType::kFloat32, DType::kFloat64}) {
    for (const char* op : {"all", "any"}) {
      truths.push_back({op, {d}, {}, {61, 67}});
      truths.push_back({op, {d}, rows, {3, 5003}});
      truths.push_back({op, {d}, columns, {7, 3001}});
    }
  }
  ExpectSameAsTheHost(truths);
}

}  // namespace
}  // namespace tensord::cuda
