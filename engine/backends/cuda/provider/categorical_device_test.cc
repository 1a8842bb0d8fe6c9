// Discrete draws on a device (device_testing.h) against the host, byte for byte: the categorical
// draws (categorical_kernels.h: random_multinomial, random_choice, random_permutation) and
// binomial draws of per-element n or p (per_element_binomial.h) give the host's samples and new
// state, for one stream and several, and refuse bad parameters in the host's words.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "engine/backends/cuda/provider/device_testing.h"
#include "engine/ops/node_builder.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;
using testing::Compiled;
using testing::ExpectRefusedAsTheHost;
using testing::kOn;
using testing::MrgState;
using testing::SameBytes;
using testing::To;

Tensor Int64s(runtime::Shape shape, std::vector<int64_t> values) {
  Tensor t(DType::kInt64, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return t;
}

Tensor Int32s(runtime::Shape shape, std::vector<int32_t> values) {
  Tensor t(DType::kInt32, std::move(shape));
  std::copy(values.begin(), values.end(), t.data<int32_t>());
  return t;
}

// Rows of probabilities of `dtype`: row r's entry m proportional to (r + 2m + 1) % 7, some zero,
// normalized (a float32 row's sum is within its tolerance of 1).
Tensor Probabilities(DType dtype, runtime::Shape shape) {
  Tensor t(dtype, shape);
  const int64_t len = shape.back(), rows = t.num_elements() / std::max<int64_t>(len, 1);
  for (int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (int64_t m = 0; m < len; ++m) sum += (r + 2 * m + 1) % 7;
    for (int64_t m = 0; m < len; ++m) {
      const double v = sum == 0 ? 1.0 / len : ((r + 2 * m + 1) % 7) / sum;
      if (dtype == DType::kFloat32) t.data<float>()[r * len + m] = static_cast<float>(v);
      if (dtype == DType::kFloat64) t.data<double>()[r * len + m] = v;
    }
  }
  return t;
}

// `op`(state, size, third, fourth) with `attrs` on `where`: the state and the values in
// `on_device` (input positions) moved there, the rest (the size, n, a population size) on the
// host, as a client's graph would hold them.
std::shared_ptr<compile::Executable> Sampler(const std::string& where, const std::string& op,
                                             const std::vector<Tensor>& in,
                                             std::vector<int> on_device, ir::Attrs attrs) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<ir::Variable*> args;
  for (size_t k = 0; k < in.size(); ++k) {
    g->inputs().push_back(
        g->AddInput(ir::Type::Of(in[k].dtype(), in[k].ndim()), "v" + std::to_string(k)));
    const bool up = k == 0 || std::find(on_device.begin(), on_device.end(), k) != on_device.end();
    args.push_back(up ? To(*g, g->inputs().back(), where) : g->inputs().back());
  }
  ops::NodeBuilder b(*g);
  std::vector<ir::Variable*> outs = b.ApplyMulti(op, args, std::move(attrs));
  EXPECT_TRUE(b.status().ok()) << b.status();
  if (!b.status().ok()) return nullptr;
  g->outputs() = {To(*g, outs[0], "cpu"), To(*g, outs[1], "cpu")};
  return Compiled(std::move(g));
}

// The draw on the device gives the host's state and sample, and runs there.
void ExpectSameDraws(const std::string& what, const std::string& op, const std::vector<Tensor>& in,
                     std::vector<int> on_device, const ir::Attrs& attrs) {
  auto device = Sampler(kOn, op, in, on_device, attrs);
  auto host = Sampler("cpu", op, in, on_device, attrs);
  ASSERT_NE(device, nullptr) << what;
  ASSERT_NE(host, nullptr) << what;
  for (const compile::Instruction& ins : device->instructions()) {
    if (ins.label.rfind(op, 0) == 0) EXPECT_NE(ins.device, nullptr) << what << ": on the host";
  }
  auto got = device->Run(in, {});
  auto want = host->Run(in, {});
  ASSERT_TRUE(want.ok()) << what << ": " << want.status();
  ASSERT_TRUE(got.ok()) << what << ": " << got.status();
  EXPECT_TRUE(SameBytes(got->outputs[0], want->outputs[0])) << what << ": state";
  EXPECT_TRUE(SameBytes(got->outputs[1], want->outputs[1])) << what << ": sample";
}

void ExpectRefused(const std::string& what, const std::string& op, const std::vector<Tensor>& in,
                   std::vector<int> on_device, const ir::Attrs& attrs) {
  auto device = Sampler(kOn, op, in, on_device, attrs);
  auto host = Sampler("cpu", op, in, on_device, attrs);
  ASSERT_NE(device, nullptr) << what;
  ASSERT_NE(host, nullptr) << what;
  ExpectRefusedAsTheHost(*device, *host, in, what);
}

ir::Attrs Attrs(DType dtype, int64_t ndim) { return {{"dtype", dtype}, {"ndim", ndim}}; }

TEST(TENSORD_PROVIDER_TEST_SUITE, MultinomialDrawsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const char* op = "random_multinomial";
  for (int64_t streams : {1, 7}) {
    const Tensor state = MrgState(streams, 31);
    const std::string s = " streams " + std::to_string(streams);
    for (DType p : {DType::kFloat32, DType::kFloat64}) {
      // A row of pvals per draw, n for all (trial c of row r takes uniform c * rows + r) and n
      // per row (the host's walk skips rows of fewer trials), into counts of several dtypes.
      for (DType dtype : {DType::kInt64, DType::kFloat32, DType::kInt8}) {
        const std::string what = std::string(DTypeName(p)) + " " + DTypeName(dtype) + s;
        ExpectSameDraws(what + " one n", op,
                        {state, Int64s({1}, {5}), Int32s({}, {6}), Probabilities(p, {5, 4})}, {3},
                        Attrs(dtype, 1));
        ExpectSameDraws(
            what + " n per row", op,
            {state, Int64s({1}, {5}), Int32s({5}, {0, 2, 9, 1, 3}), Probabilities(p, {5, 4})}, {3},
            Attrs(dtype, 1));
      }
      // pvals broadcast over a size of two dims; a bool sample (whether a category was drawn).
      ExpectSameDraws("broadcast" + s, op,
                      {state, Int64s({2}, {3, 2}), Int32s({2}, {4, 1}), Probabilities(p, {7})}, {3},
                      Attrs(DType::kInt32, 2));
      ExpectSameDraws("bool" + s, op,
                      {state, Int64s({1}, {4}), Int32s({}, {2}), Probabilities(p, {4, 3})}, {3},
                      Attrs(DType::kBool, 1));
    }
  }
  // Past the uniforms the scratch holds at once (8M), in runs of trials: every row with as many,
  // and rows of their own (the walk's map made per run).
  ExpectSameDraws("runs", op,
                  {MrgState(7, 3), Int64s({1}, {3}), Int32s({}, {3000000}),
                   Probabilities(DType::kFloat64, {3, 4})},
                  {3}, Attrs(DType::kInt64, 1));
  ExpectSameDraws("runs per row", op,
                  {MrgState(7, 3), Int64s({1}, {3}), Int32s({3}, {3000000, 5000000, 1000000}),
                   Probabilities(DType::kFloat64, {3, 4})},
                  {3}, Attrs(DType::kInt64, 1));
  // No draws: an empty size, no trials, and no categories to draw none from.
  const Tensor state = MrgState(3, 5);
  ExpectSameDraws("empty", op,
                  {state, Int64s({1}, {0}), Int32s({}, {3}), Probabilities(DType::kFloat32, {4})},
                  {3}, Attrs(DType::kInt64, 1));
  ExpectSameDraws("no trials", op,
                  {state, Int64s({1}, {2}), Int32s({}, {0}), Probabilities(DType::kFloat32, {4})},
                  {3}, Attrs(DType::kInt64, 1));
  ExpectSameDraws(
      "no categories, no trials", op,
      {state, Int64s({1}, {2}), Int32s({}, {0}), Probabilities(DType::kFloat32, {2, 0})}, {3},
      Attrs(DType::kInt64, 1));
  // Bad parameters, in the host's words and order: a row outside [0, 1] or not summing to 1
  // (row by row, n first), pvals that do not broadcast, categories none, too many steps.
  Tensor bad = Probabilities(DType::kFloat32, {4, 3});
  bad.data<float>()[2 * 3 + 1] = -0.25f;  // row 2
  Tensor off = Probabilities(DType::kFloat32, {4, 3});
  off.data<float>()[1 * 3] += 0.125f;  // row 1 sums to 1.125
  const Tensor size = Int64s({1}, {4});
  const ir::Attrs attrs = Attrs(DType::kInt64, 1);
  ExpectRefused("negative p", op, {state, size, Int32s({}, {2}), bad}, {3}, attrs);
  ExpectRefused("sum", op, {state, size, Int32s({}, {2}), off}, {3}, attrs);
  ExpectRefused("n after p", op, {state, size, Int32s({4}, {1, 1, 1, -1}), bad}, {3}, attrs);
  ExpectRefused("n before p", op, {state, size, Int32s({4}, {1, -1, 1, 1}), bad}, {3}, attrs);
  ExpectRefused("n and p", op, {state, size, Int32s({4}, {1, 1, -1, 1}), bad}, {3}, attrs);
  ExpectRefused("broadcast", op,
                {state, size, Int32s({}, {2}), Probabilities(DType::kFloat32, {3, 3})}, {3}, attrs);
  ExpectRefused("no categories", op,
                {state, size, Int32s({}, {2}), Probabilities(DType::kFloat32, {4, 0})}, {3}, attrs);
  ExpectRefused("steps", op,
                {state, size, Int32s({}, {1 << 30}), Probabilities(DType::kFloat32, {4, 3})}, {3},
                attrs);
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ChoicesMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const char* op = "random_choice";
  auto attrs = [](DType dtype, int64_t ndim, bool replace) {
    ir::Attrs a = Attrs(dtype, ndim);
    a["replace"] = replace;
    return a;
  };
  Tensor population(DType::kFloat32, {6});
  for (int64_t i = 0; i < 6; ++i) population.data<float>()[i] = 0.5f * i - 1;
  const Tensor none(DType::kFloat64, {0});
  for (int64_t streams : {1, 5}) {
    const Tensor state = MrgState(streams, 17);
    for (bool replace : {true, false}) {
      const std::string s =
          " streams " + std::to_string(streams) + (replace ? " replace" : " no replace");
      // Of range(6) and of a vector on the device; equal weights, weights, a set per row.
      ExpectSameDraws("range" + s, op, {state, Int64s({1}, {4}), Int64s({}, {6}), none}, {3},
                      attrs(DType::kInt64, 1, replace));
      ExpectSameDraws("vector" + s, op, {state, Int64s({1}, {5}), population, none}, {2, 3},
                      attrs(DType::kFloat32, 1, replace));
      ExpectSameDraws(
          "weights" + s, op,
          {state, Int64s({1}, {3}), Int64s({}, {6}), Probabilities(DType::kFloat64, {6})}, {3},
          attrs(DType::kInt32, 1, replace));
      if (replace) {  // draws over several blocks of threads
        ExpectSameDraws(
            "many" + s, op,
            {state, Int64s({1}, {1000}), population, Probabilities(DType::kFloat32, {3, 6})},
            {2, 3}, attrs(DType::kFloat32, 1, true));
      }
      ExpectSameDraws("rows" + s, op,
                      {state, Int64s({1}, {2}), population, Probabilities(DType::kFloat32, {4, 6})},
                      {2, 3}, attrs(DType::kFloat32, 1, replace));
    }
  }
  const Tensor state = MrgState(3, 2);
  // Populations of another dtype, converted as the host casts them; bool samples; none drawn
  // from none.
  Tensor shorts(DType::kInt16, {5});
  for (int64_t i = 0; i < 5; ++i) shorts.data<int16_t>()[i] = static_cast<int16_t>(300 * i - 700);
  ExpectSameDraws("int16 into float64", op, {state, Int64s({1}, {6}), shorts, none}, {2, 3},
                  attrs(DType::kFloat64, 1, true));
  ExpectSameDraws("int16 into int8", op, {state, Int64s({1}, {6}), shorts, none}, {2, 3},
                  attrs(DType::kInt8, 1, true));
  ExpectSameDraws("bool", op, {state, Int64s({1}, {6}), Int64s({}, {3}), none}, {3},
                  attrs(DType::kBool, 1, true));
  ExpectSameDraws("none of none", op, {state, Int64s({1}, {0}), Int64s({}, {0}), none}, {3},
                  attrs(DType::kInt64, 1, false));
  // Bad parameters, in the host's words: weights outside [0, 1] or not summing to 1, a and p
  // of other sizes, an empty population, more than the population without replacement, a
  // shuffle's pool past the tensor limit, fewer nonzero weights than draws (in a later row).
  Tensor bad = Probabilities(DType::kFloat64, {3, 6});
  bad.data<double>()[6 + 4] = 1.5;
  ExpectRefused("p", op, {state, Int64s({1}, {2}), Int64s({}, {6}), bad}, {3},
                attrs(DType::kInt64, 1, true));
  ExpectRefused("sizes", op,
                {state, Int64s({1}, {2}), Int64s({}, {5}), Probabilities(DType::kFloat64, {6})},
                {3}, attrs(DType::kInt64, 1, true));
  ExpectRefused("larger", op, {state, Int64s({1}, {7}), Int64s({}, {6}), none}, {3},
                attrs(DType::kInt64, 1, false));
  Tensor sparse(DType::kFloat64, {6});
  for (int64_t i = 0; i < 6; ++i) sparse.data<double>()[i] = i < 2 ? 0.5 : 0.0;
  ExpectRefused("nonzero", op, {state, Int64s({1}, {3}), Int64s({}, {6}), sparse}, {3},
                attrs(DType::kInt64, 1, false));
  Tensor rows = Probabilities(DType::kFloat64, {3, 6});
  for (int64_t m = 0; m < 6; ++m) rows.data<double>()[12 + m] = m == 4 ? 1.0 : 0.0;
  ExpectRefused("nonzero in row 2", op, {state, Int64s({1}, {2}), Int64s({}, {6}), rows}, {3},
                attrs(DType::kInt64, 1, false));
  Tensor off = Probabilities(DType::kFloat64, {6});
  off.data<double>()[0] += 0.25;
  ExpectRefused("sum", op, {state, Int64s({1}, {2}), Int64s({}, {6}), off}, {3},
                attrs(DType::kInt64, 1, true));
  ExpectRefused("empty population", op, {state, Int64s({1}, {2}), Int64s({}, {0}), none}, {3},
                attrs(DType::kInt64, 1, true));
  {  // the tensor limit is RESOURCE_EXHAUSTED
    const std::vector<Tensor> in = {state, Int64s({1}, {1}), Int64s({}, {int64_t{1} << 40}), none};
    auto device = Sampler(kOn, op, in, {3}, attrs(DType::kInt64, 1, false));
    auto host = Sampler("cpu", op, in, {3}, attrs(DType::kInt64, 1, false));
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    const absl::Status got = device->Run(in, {}).status(), want = host->Run(in, {}).status();
    EXPECT_EQ(got.code(), absl::StatusCode::kResourceExhausted) << got;
    EXPECT_EQ(testing::Words(got), testing::Words(want));
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, PermutationsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const char* op = "random_permutation";
  for (int64_t streams : {1, 6}) {
    const Tensor state = MrgState(streams, 8);
    for (int64_t n : {0, 1, 10, 300}) {
      // int8 holds 300 indices as their conversions do.
      for (DType dtype :
           {DType::kInt64, DType::kInt8, DType::kFloat32, DType::kBool, DType::kUInt16}) {
        const std::string what = "n " + std::to_string(n) + " " + DTypeName(dtype) + " streams " +
                                 std::to_string(streams);
        ExpectSameDraws(what, op, {state, Int64s({1}, {3}), Int64s({}, {n})}, {}, Attrs(dtype, 1));
      }
    }
  }
  ExpectSameDraws("int32 n", op, {MrgState(2, 1), Int64s({1}, {2}), Int32s({}, {9})}, {},
                  Attrs(DType::kInt64, 1));
  ExpectRefused("n", op, {MrgState(2, 1), Int64s({1}, {3}), Int64s({}, {-2})}, {},
                Attrs(DType::kInt64, 1));
}

Tensor Floats(runtime::Shape shape, std::vector<float> values) {
  Tensor t(DType::kFloat32, std::move(shape));
  for (int64_t i = 0; i < t.num_elements(); ++i) t.data<float>()[i] = values[i % values.size()];
  return t;
}

// Binomial draws of per-element p (an RBM's hidden units: n = 1, p in [0, 1] with exact 0s and
// 1s, which take no uniform) and of per-element n (0, inversion, and sums of n Bernoulli draws),
// broadcast against each other; enough draws that each lane of the counting pass walks several.
TEST(TENSORD_PROVIDER_TEST_SUITE, PerElementBinomialDrawsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const char* op = "random_binomial";
  const Tensor units = Floats({9, 13}, {0.5f, 0.0f, 0.125f, 1.0f, 0.96875f, 0.25f, 0.7f});
  const Tensor trials = Int32s({9, 1}, {0, 1, 5, 40, 100, 3, 0, 77, 2});
  const Tensor half = Floats({}, {0.5f});
  const Tensor row = Floats({13}, {0.5f, 0.0f, 0.125f, 0.9f, 1.0f});
  for (int64_t streams : {1, 7, 300}) {
    const Tensor state = MrgState(streams, 12);
    const Tensor size = Int64s({2}, {9, 13});
    for (DType dtype : {DType::kInt64, DType::kFloat32, DType::kInt8}) {
      const std::string what =
          std::string(DTypeName(dtype)) + " streams " + std::to_string(streams);
      ExpectSameDraws(what + " p", op, {state, size, Int64s({}, {1}), units}, {2, 3},
                      Attrs(dtype, 2));
      ExpectSameDraws(what + " n", op, {state, size, trials, half}, {2, 3}, Attrs(dtype, 2));
      ExpectSameDraws(what + " both", op, {state, size, trials, row}, {2, 3}, Attrs(dtype, 2));
      Tensor row64(DType::kFloat64, {13});
      for (int64_t i = 0; i < 13; ++i) row64.data<double>()[i] = row.data<float>()[i];
      ExpectSameDraws(what + " int64 n, float64 p", op,
                      {state, size, Int64s({9, 1}, {0, 1, 5, 40, 100, 3, 0, 77, 2}), row64}, {2, 3},
                      Attrs(dtype, 2));
    }
  }
  const Tensor state = MrgState(5, 3);
  ExpectSameDraws("many", op,
                  {state, Int64s({2}, {300, 300}), Int64s({}, {1}),
                   Floats({300, 300}, {0.5f, 0.0f, 0.25f, 1.0f, 0.875f})},
                  {2, 3}, Attrs(DType::kInt64, 2));
  // Past the uniforms the scratch holds at once (8M): 90,000 draws of 100 Bernoulli draws
  // each, in runs of lanes.
  ExpectSameDraws("runs", op,
                  {MrgState(7, 3), Int64s({2}, {300, 300}),
                   Int32s({300, 1}, std::vector<int32_t>(300, 100)), Floats({300}, {0.5f, 0.375f})},
                  {2, 3}, Attrs(DType::kInt64, 2));
  // An empty sample takes any parameters, as on the host.
  ExpectSameDraws("empty", op, {state, Int64s({2}, {0, 13}), Int64s({}, {-1}), row}, {2, 3},
                  Attrs(DType::kInt64, 2));
  // Bad parameters, in the host's words, the first bad draw's: its n before its p.
  const Tensor size = Int64s({2}, {9, 13});
  const ir::Attrs attrs = Attrs(DType::kInt64, 2);
  Tensor bad_p = units;
  bad_p.data<float>()[20] = 1.5f;
  bad_p.data<float>()[50] = -0.5f;
  ExpectRefused("p", op, {state, size, Int64s({}, {1}), bad_p}, {2, 3}, attrs);
  Tensor nan_p = units;
  nan_p.data<float>()[4] = std::numeric_limits<float>::quiet_NaN();
  ExpectRefused("nan", op, {state, size, Int64s({}, {1}), nan_p}, {2, 3}, attrs);
  Tensor bad_n = Int32s({9, 13}, std::vector<int32_t>(117, 1));
  bad_n.data<int32_t>()[20] = -2;
  ExpectRefused("n then p", op, {state, size, bad_n, bad_p}, {2, 3}, attrs);
  ExpectRefused("broadcast", op, {state, size, Int32s({2}, {1, 1}), units}, {2, 3}, attrs);
  ExpectRefused("steps", op, {state, size, Int32s({9, 1}, std::vector<int32_t>(9, 1 << 30)), half},
                {2, 3}, attrs);
  // n whose steps would wrap a 64-bit sum (4 * 2^62) are refused as the host counts them.
  ExpectRefused(
      "wrapping steps", op,
      {state, Int64s({1}, {4}), Int64s({4}, std::vector<int64_t>(4, int64_t{1} << 62)), half},
      {2, 3}, Attrs(DType::kInt64, 1));
}

}  // namespace
}  // namespace tensord::cuda
