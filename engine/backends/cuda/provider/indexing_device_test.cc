// Advanced indexing on a device (device_testing.h, indexing.h) against the host, byte for byte:
// boolean masks (their nonzero() made on the device), slices mixed with index arrays (NumPy's
// order of the result's dims, the bounds read on the host), values of every dtype and their
// increments (integers wrapping, a bool's sum its or), and the host's errors.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cuda/provider/device_testing.h"
#include "engine/ops/defs/subtensor.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Tensor;
using testing::Compiled;
using testing::kOn;
using testing::Runs;
using testing::To;

constexpr int64_t kNone = ops::subtensor::kIndexNone;
constexpr int64_t kSymbolic = ops::subtensor::kIndexSymbolic;

// One indexing node: idx_list (groups of four, subtensor.h), x, the index inputs in the order
// its entries take them (a 0-d integer is a slice's bound, kept on the host, so no case here
// indexes by a 0-d integer array; the rest are arrays, moved to the device), and an increment's
// y.
struct Case {
  std::string what;
  std::vector<int64_t> idx_list;
  Tensor x;
  std::vector<Tensor> indices;
  std::optional<Tensor> y = std::nullopt;
  bool set = false;
};

bool IsBound(const Tensor& t) { return t.ndim() == 0 && t.dtype() != DType::kBool; }

std::shared_ptr<compile::Executable> Build(const Case& c, const std::string& where) {
  auto g = std::make_unique<ir::Graph>();
  auto input = [&](const Tensor& t) {
    g->inputs().push_back(g->AddInput(ir::Type::Of(t.dtype(), t.ndim()), "v"));
    return g->inputs().back();
  };
  std::vector<ir::Variable*> in = {To(*g, input(c.x), where)};
  if (c.y) in.push_back(To(*g, input(*c.y), where));
  for (const Tensor& t : c.indices) {
    ir::Variable* v = input(t);
    in.push_back(IsBound(t) ? v : To(*g, v, where));
  }
  ir::Attrs attrs = {{"idx_list", c.idx_list}};
  if (c.y) attrs["set_instead_of_inc"] = c.set;
  const char* op = c.y ? "advanced_inc_subtensor" : "advanced_subtensor";
  g->outputs() = {To(*g, Node(*g, op, in, attrs), "cpu")};
  return Compiled(std::move(g));
}

std::vector<Tensor> Inputs(const Case& c) {
  std::vector<Tensor> inputs = {c.x};
  if (c.y) inputs.push_back(*c.y);
  inputs.insert(inputs.end(), c.indices.begin(), c.indices.end());
  return inputs;
}

// The case on the device gives the host's bytes, and runs its indexing there.
void ExpectSameAsTheHost(const Case& c) {
  auto device = Build(c, kOn), host = Build(c, "cpu");
  ASSERT_NE(device, nullptr) << c.what;
  ASSERT_NE(host, nullptr) << c.what;
  EXPECT_TRUE(Runs(*device, c.y ? "advanced_inc_subtensor" : "advanced_subtensor")) << c.what;
  for (const compile::Instruction& ins : device->instructions()) {
    if (ins.label.rfind("advanced", 0) == 0) {
      EXPECT_NE(ins.device, nullptr) << c.what << ": " << ins.label << " ran on the host";
    }
  }
  auto got = device->Run(Inputs(c), {});
  auto want = host->Run(Inputs(c), {});
  ASSERT_TRUE(want.ok()) << c.what << ": " << want.status();
  ASSERT_TRUE(got.ok()) << c.what << ": " << got.status();
  const Tensor g = cpu::Contiguous(got->outputs[0]), w = cpu::Contiguous(want->outputs[0]);
  ASSERT_EQ(g.shape(), w.shape()) << c.what;
  ASSERT_EQ(g.dtype(), w.dtype()) << c.what;
  EXPECT_EQ(std::memcmp(g.raw(), w.raw(), w.num_bytes()), 0) << c.what;
}

// Values of `dtype` whose sums in any order are exact: k / 4 in floats, k in integers (where
// sums wrap, in any order the same), k % 2 in bool.
Tensor Values(DType dtype, runtime::Shape shape, int64_t seed = 0) {
  Tensor t(dtype, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const int64_t k = (i * 37 + seed * 11) % 29 - 9;
    switch (dtype) {
      case DType::kFloat32:
        t.data<float>()[i] = static_cast<float>(k) / 4;
        break;
      case DType::kFloat64:
        t.data<double>()[i] = static_cast<double>(k) / 4;
        break;
      case DType::kBool:
        t.data<bool>()[i] = k % 2 != 0;
        break;
      default: {  // an integer: k times a large odd number, so that narrow sums wrap
        const uint64_t bits = static_cast<uint64_t>(k) * 0x9E3779B97F4A7C15ull;
        std::memcpy(static_cast<char*>(t.raw()) + i * DTypeSize(dtype), &bits, DTypeSize(dtype));
      }
    }
  }
  return t;
}

Tensor Ints(runtime::Shape shape, std::vector<int64_t> values) {
  Tensor t(DType::kInt64, std::move(shape));
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.num_elements());
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

// A mask of `shape` true where (i * 5) % period < 2.
Tensor Mask(runtime::Shape shape, int period) {
  Tensor t(DType::kBool, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<bool>()[i] = (i * 5) % period < 2;
  return t;
}

Tensor Scalar(int64_t v) { return Ints({}, {v}); }

Tensor BoolScalar(bool v) {
  Tensor t(DType::kBool, {});
  *t.data<bool>() = v;
  return t;
}

constexpr std::array<int64_t, 4> kArray = {2, 0, 0, 0};
constexpr std::array<int64_t, 4> kAll = {1, kNone, kNone, kNone};

std::vector<int64_t> List(std::initializer_list<std::array<int64_t, 4>> entries) {
  std::vector<int64_t> list;
  for (const auto& e : entries) list.insert(list.end(), e.begin(), e.end());
  return list;
}

TEST(TENSORD_PROVIDER_TEST_SUITE, MasksSelectAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor x = Values(DType::kFloat32, {6, 5, 4});
  // A mask of each rank over x's leading dims, one that is all false, one over the middle dim
  // after a slice, one beside an index array, and 0-d masks (a new dim of 1 or of 0).
  ExpectSameAsTheHost({"1-d mask", List({kArray}), x, {Mask({6}, 3)}});
  ExpectSameAsTheHost({"2-d mask", List({kArray}), x, {Mask({6, 5}, 7)}});
  ExpectSameAsTheHost({"3-d mask", List({kArray}), x, {Mask({6, 5, 4}, 11)}});
  ExpectSameAsTheHost({"one true", List({kArray}), x, {Mask({6, 5}, 1000) /* i = 0 only */}});
  Tensor none(DType::kBool, {6});
  for (int64_t i = 0; i < 6; ++i) none.data<bool>()[i] = false;
  ExpectSameAsTheHost({"no true", List({kArray}), x, {none}});
  ExpectSameAsTheHost({"slice, mask", List({kAll, kArray}), x, {Mask({5}, 4)}});
  ExpectSameAsTheHost(
      {"mask, array", List({kArray, kArray}), x, {Mask({6, 5}, 9), Ints({1}, {-1})}});
  ExpectSameAsTheHost({"0-d true", List({kArray}), x, {BoolScalar(true)}});
  ExpectSameAsTheHost({"0-d false", List({kArray}), x, {BoolScalar(false)}});
  // Long enough that each lane of the nonzero kernels counts more than one element.
  const Tensor long_x = Values(DType::kFloat64, {70001});
  ExpectSameAsTheHost({"long mask", List({kArray}), long_x, {Mask({70001}, 13)}});
}

TEST(TENSORD_PROVIDER_TEST_SUITE, MaskedIncrementsAndAssignmentsAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor x = Values(DType::kFloat32, {6, 5, 4});
  const Tensor mask = Mask({6, 5}, 7);
  int64_t count = 0;
  for (int64_t i = 0; i < mask.num_elements(); ++i) count += mask.data<bool>()[i] ? 1 : 0;
  for (bool set : {false, true}) {
    // y broadcast over the selected rows, and one value per selected element.
    ExpectSameAsTheHost({"row y", List({kArray}), x, {mask}, Values(DType::kFloat32, {4}, 1), set});
    ExpectSameAsTheHost(
        {"full y", List({kArray}), x, {mask}, Values(DType::kFloat64, {count, 4}, 2), set});
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, SlicesBesideArraysAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor x = Values(DType::kFloat32, {6, 5, 4});
  const Tensor i = Ints({2, 3}, {0, -1, 2, 4, 1, 1});
  const Tensor j = Ints({3}, {3, 0, -2});
  // x[:, i]: the slice's dim first (a transposed view of the gathered block, as the host's).
  ExpectSameAsTheHost({"x[:, i]", List({kAll, kArray}), x, {i}});
  // x[1:5:2, i, ::-1] with symbolic bounds, x[::-1, :, j].
  ExpectSameAsTheHost({"x[a:b:2, i, ::-1]",
                       List({{1, kSymbolic, kSymbolic, 2}, kArray, {1, kNone, kNone, -1}}),
                       x,
                       {Scalar(1), Scalar(5), i}});
  ExpectSameAsTheHost({"x[::-1, :, j]", List({{1, kNone, kNone, -1}, kAll, kArray}), x, {j}});
  // Arrays apart: their dims come first (x[i, :, j]: i and j broadcast).
  ExpectSameAsTheHost({"x[i, :, j]", List({kArray, kAll, kArray}), x, {i, j}});
  ExpectSameAsTheHost({"x[i, 1:, j]", List({kArray, {1, 1, kNone, kNone}, kArray}), x, {i, j}});
  // An empty slice selects nothing.
  ExpectSameAsTheHost({"x[4:2, i]", List({{1, 4, 2, kNone}, kArray}), x, {i}});
  // Their increments, y broadcast over the result in NumPy's order; repeated indices add up.
  const Tensor repeated = Ints({4}, {1, 1, -4, 3});
  for (bool set : {false, true}) {
    const Tensor& rows = set ? j : repeated;  // a repeated index sets an undefined one on a GPU
    ExpectSameAsTheHost({"x[:, rows] += y",
                         List({kAll, kArray}),
                         x,
                         {rows},
                         Values(DType::kFloat32, {6, 1, 4}),
                         set});
    ExpectSameAsTheHost({"x[rows, :, j] += y",
                         List({kArray, kAll, kArray}),
                         x,
                         {Ints({3}, {5, 0, 2}), j},
                         Values(DType::kFloat64, {3, 5}, 3),
                         set});
  }
}

// Every dtype a GPU holds: the gather, and the increment with repeated indices (integers wrap
// in any order; a bool's sum is its or) and the assignment with distinct ones, y of x's dtype
// and of int32.
TEST(TENSORD_PROVIDER_TEST_SUITE, IndexingEveryDtypeAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor repeated = Ints({5}, {2, 0, 2, -1, 2}), distinct = Ints({3}, {2, 0, -1});
  for (DType dtype :
       {DType::kBool, DType::kInt8, DType::kInt16, DType::kInt32, DType::kInt64, DType::kUInt8,
        DType::kUInt16, DType::kUInt32, DType::kUInt64, DType::kFloat32, DType::kFloat64}) {
    const std::string name(DTypeName(dtype));
    // Odd row lengths, so that narrow elements share words with their neighbours.
    const Tensor x = Values(dtype, {4, 7});
    ExpectSameAsTheHost({name + " x[i]", List({kArray}), x, {repeated}});
    ExpectSameAsTheHost({name + " x[mask]", List({kArray}), x, {Mask({4, 7}, 3)}});
    for (DType y : {dtype, DType::kInt32}) {
      const std::string with = name + " y " + std::string(DTypeName(y));
      ExpectSameAsTheHost(
          {with + " x[:, i] += y", List({kAll, kArray}), x, {repeated}, Values(y, {4, 5}, 4)});
      ExpectSameAsTheHost(
          {with + " x[i] = y", List({kArray}), x, {distinct}, Values(y, {3, 7}, 5), true});
    }
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, BadIndicesRefusedAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const Tensor x = Values(DType::kFloat32, {6, 5, 4});
  auto refused = [&](const Case& c) {
    auto device = Build(c, kOn), host = Build(c, "cpu");
    ASSERT_NE(device, nullptr) << c.what;
    ASSERT_NE(host, nullptr) << c.what;
    testing::ExpectRefusedAsTheHost(*device, *host, Inputs(c), c.what);
  };
  // A mask of the wrong length; an index past the end behind a slice (its axis is 1); arrays
  // that do not broadcast; a y that does not fit; a slice step of 0.
  refused({"mask", List({kArray}), x, {Mask({6, 4}, 3)}});
  refused({"bounds", List({kAll, kArray}), x, {Ints({2}, {1, 5})}});
  refused({"broadcast", List({kArray, kArray}), x, {Ints({2}, {1, 2}), Ints({3}, {0, 1, 2})}});
  refused({"mask and array", List({kArray, kArray}), x, {Mask({6, 5}, 9), Ints({2}, {0, 1})}});
  refused({"y", List({kAll, kArray}), x, {Ints({2}, {1, 2})}, Values(DType::kFloat32, {3, 4})});
  refused({"step", List({{1, kNone, kNone, kSymbolic}, kArray}), x, {Scalar(0), Ints({1}, {0})}});
  // The host meets a bad slice before a bad mask after it, and checks indices that select
  // nothing (behind an empty slice, or of an increment that adds nothing).
  refused({"step, then mask",
           List({{1, kNone, kNone, kSymbolic}, kArray}),
           x,
           {Scalar(0), Mask({4}, 3)}});
  refused({"bounds, empty", List({{1, 4, 2, kNone}, kArray}), x, {Ints({2}, {1, 9})}});
  refused({"bounds, empty, inc",
           List({kArray, {1, 4, 2, kNone}}),
           x,
           {Ints({1}, {-7})},
           Values(DType::kFloat32, {1})});
}

// Random index lists against the host: x of 1 to 4 dims (some of length 0), each entry a slice
// (random bounds and step, some symbolic), an integer array (of a random integer dtype, in range,
// negative ones among them, arrays broadcasting) or a bool mask over one or two dims; each list
// gathered, then incremented by a y of the result's shape.
TEST(TENSORD_PROVIDER_TEST_SUITE, RandomIndexListsAsTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(20261207);
  auto below = [&](int64_t n) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(n)); };
  const DType index_dtypes[] = {DType::kInt8,  DType::kInt16, DType::kInt32,
                                DType::kInt64, DType::kUInt8, DType::kUInt32};
  int checked = 0;
  for (int trial = 0; checked < 120 && trial < 1000; ++trial) {
    runtime::Shape xs;
    for (int64_t d = 0, nd = 1 + below(4); d < nd; ++d)
      xs.push_back(below(8) == 0 ? 0 : 1 + below(5));
    Case c;
    c.what = "trial " + std::to_string(trial);
    c.x = Values(DType::kFloat32, xs, trial);
    const bool with_mask = below(4) == 0;
    const int64_t length = with_mask ? 1 : 1 + below(3);  // the arrays' (masks' vectors broadcast)
    bool indexed = false, masked = false;
    for (size_t d = 0; d < xs.size();) {
      const int64_t pick = below(10);
      if (pick < 4 || xs[d] == 0) {  // a slice
        std::array<int64_t, 4> e = {1, kNone, kNone, kNone};
        for (int f = 1; f <= 3; ++f) {
          if (below(3) == 0) continue;  // omitted
          int64_t v = below(13) - 6;
          if (f == 3 && v == 0) v = 1;  // a step of 0 is an error
          if (below(3) == 0) {
            e[f] = kSymbolic;
            c.indices.push_back(Scalar(v));
          } else {
            e[f] = v;
          }
        }
        c.idx_list.insert(c.idx_list.end(), e.begin(), e.end());
        ++d;
      } else if (pick < 8 || !with_mask || masked) {  // an integer array, in range
        const DType dtype = index_dtypes[below(6)];
        Tensor t(dtype, {below(4) == 0 ? 1 : length});
        for (int64_t i = 0; i < t.num_elements(); ++i) {
          int64_t v = below(xs[d]);
          if (IsSignedInt(dtype) && below(2) == 0) v -= xs[d];
          const uint64_t bits = static_cast<uint64_t>(v);
          std::memcpy(static_cast<char*>(t.raw()) + i * DTypeSize(dtype), &bits, DTypeSize(dtype));
        }
        c.indices.push_back(t);
        c.idx_list.insert(c.idx_list.end(), kArray.begin(), kArray.end());
        indexed = true;
        ++d;
      } else {  // a mask over one or two dims
        const size_t dims = d + 1 < xs.size() && xs[d + 1] > 0 && below(2) == 0 ? 2 : 1;
        runtime::Shape shape(xs.begin() + d, xs.begin() + d + dims);
        Tensor m(DType::kBool, shape);
        for (int64_t i = 0; i < m.num_elements(); ++i) m.data<bool>()[i] = below(2) == 0;
        c.indices.push_back(m);
        c.idx_list.insert(c.idx_list.end(), kArray.begin(), kArray.end());
        indexed = masked = true;  // one mask: two would rarely broadcast
        d += dims;
      }
      if (below(6) == 0) break;  // the rest taken whole
    }
    if (!indexed) continue;
    ExpectSameAsTheHost(c);
    auto host = Build(c, "cpu");
    ASSERT_NE(host, nullptr);
    auto gathered = host->Run(Inputs(c), {});
    ASSERT_TRUE(gathered.ok()) << c.what << ": " << gathered.status();
    c.y = Values(DType::kFloat32, gathered->outputs[0].shape(), trial + 1);
    c.what += " += y";
    ExpectSameAsTheHost(c);
    ++checked;
  }
  EXPECT_EQ(checked, 120);
}

// An index out of bounds is read back once the run's instructions are done (deferred_checks.h),
// not after the launch: a later node that fails too does not hide it, the earlier node's words
// being the run's error, as on the host.
TEST(TENSORD_PROVIDER_TEST_SUITE, AnEarlierBadIndexIsTheRunsError) {
  SKIP_WITHOUT_THE_DEVICE();
  auto build = [](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    ir::Variable* i = g->AddInput(ir::Type::Of(DType::kInt64, 1), "i");
    ir::Variable* shape = g->AddInput(ir::Type::Of(DType::kInt64, 1), "shape");
    g->inputs() = {x, i, shape};
    ir::Variable* rows = Node(*g, "advanced_subtensor1", {To(*g, x, where), To(*g, i, where)});
    // The gathered rows reshaped on the host to a shape given at run time.
    g->outputs() = {Node(*g, "reshape", {To(*g, rows, "cpu"), shape}, {{"ndim", int64_t{1}}})};
    return Compiled(std::move(g));
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Values(DType::kFloat32, {4, 3});
  // Good rows, a good shape; then a row past the end and a shape that does not fit: both fail,
  // the gather first.
  for (int64_t row : {2, 9}) {
    for (int64_t length : {6, 7}) {
      const std::vector<Tensor> in = {x, Ints({2}, {1, row}), Ints({1}, {length})};
      auto got = device->Run(in, {});
      auto want = host->Run(in, {});
      EXPECT_EQ(got.status().code(), want.status().code()) << row << " " << length;
      if (got.ok() || want.ok()) continue;  // the good rows and shape
      EXPECT_EQ(testing::Words(got.status()), testing::Words(want.status())) << got.status();
      if (row == 9) {
        EXPECT_NE(got.status().message().find("index 9 is out of bounds for axis 0 with size 4"),
                  std::string::npos)
            << got.status();
      }
    }
  }
}

}  // namespace
}  // namespace tensord::cuda
