// The CUDA provider on a device (device_testing.h): functions placed on it compile through the
// whole engine (fusion, placement, transfers) and compute there what the host computes.
#include <gtest/gtest.h>

#include <array>
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
using testing::ExpectNear;
using testing::Filled;
using testing::kOn;
using testing::Runs;
using testing::SameBytes;
using testing::Scrambled;
using testing::To;
using testing::Words;

// f(x, b) = (exp(x) * b + tanh(x), sqr(x)) computed where `device` says, brought to the host;
// the sqr alone is a lone op, the rest one fused composite.
std::shared_ptr<compile::Executable> Build(const std::string& device) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  ir::Variable* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  g->inputs() = {x, b};
  ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", device}});
  ir::Variable* bd = Node(*g, "transfer", {b}, {{"target", device}});
  ir::Variable* f =
      Node(*g, "add", {Node(*g, "mul", {Node(*g, "exp", {xd}), bd}), Node(*g, "tanh", {xd})});
  g->outputs() = {Node(*g, "transfer", {f}, {{"target", std::string("cpu")}}),
                  Node(*g, "transfer", {Node(*g, "sqr", {xd})}, {{"target", std::string("cpu")}})};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ElementwiseFunctionsOnTheDeviceMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto gpu = Build(kOn), host = Build("cpu");
  ASSERT_NE(gpu, nullptr);
  ASSERT_NE(host, nullptr);
  for (int64_t rows : {1, 7, 1000}) {  // new shapes, then the kernels compiled before
    const Tensor x = Filled({rows, 333}, 3.0f), b = Filled({333}, 1.0f);
    auto want = host->Run({x, b}, {});
    ASSERT_TRUE(want.ok()) << want.status();
    for (int repeat = 0; repeat < 2; ++repeat) {
      auto got = gpu->Run({x, b}, {});
      ASSERT_TRUE(got.ok()) << got.status();
      for (int k = 0; k < 2; ++k) {
        ASSERT_EQ(got->outputs[k].shape(), want->outputs[k].shape());
        ASSERT_TRUE(got->outputs[k].host_accessible());
        const float* g = got->outputs[k].data<float>();
        const float* w = want->outputs[k].data<float>();
        for (int64_t i = 0; i < x.num_elements(); ++i) {
          // CUDA's expf and tanhf against SLEEF's: a few ULP apart at most.
          ASSERT_NEAR(g[i], w[i], 4e-6f * std::max(1.0f, std::abs(w[i]))) << k << " " << i;
        }
      }
    }
  }
  runtime::MemoryCounter* device = runtime::MemoryCounterFor(kOn);
  EXPECT_GT(device->transferred(runtime::TransferDirection::kHostToDevice), 0);
  EXPECT_GT(device->transferred(runtime::TransferDirection::kDeviceToHost), 0);
}

// gamma, gammaln, psi and tri_gamma (lone ops: no fusion opcode) on the device against the host,
// of float32 and float64 values and of int32 ones (converted to float as read): negative values,
// poles, zeros of both signs, NaN and infinities, values around psi's root and past the
// asymptotic series' threshold. gamma and gammaln are CUDA's against glibc's; psi and tri_gamma
// the host's own algorithm (polygamma_text.h) on CUDA's log, tan and sin.
TEST(TENSORD_PROVIDER_TEST_SUITE, SpecialFunctionsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> values = {
      0.0, -0.0,  1.0,    2.0,  3.0,   10.0,  -1.0, -2.5,  -0.5, 0.5,          1.4616321449683622,
      1.5, 9.999, 10.001, 30.0, 170.5, -7.25, 1e-8, -1e-8, 1e6,  std::nan(""), inf,
      -inf};
  for (int i = 0; i < 40; ++i) values.push_back(-6.0 + 0.37 * i);
  for (const char* op : {"gamma", "gammaln", "psi", "tri_gamma"}) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64, DType::kInt32}) {
      auto build = [&](const std::string& where) {
        auto g = std::make_unique<ir::Graph>();
        ir::Variable* x = g->AddInput(ir::Type::Of(dtype, 1), "x");
        g->inputs() = {x};
        g->outputs() = {To(*g, Node(*g, op, {To(*g, x, where)}), "cpu")};
        return Compiled(std::move(g));
      };
      auto device = build(kOn), host = build("cpu");
      ASSERT_NE(device, nullptr) << op;
      ASSERT_NE(host, nullptr) << op;
      EXPECT_TRUE(testing::RunsOnTheDevice(*device, op)) << op;
      Tensor x(dtype, {static_cast<int64_t>(values.size())});
      for (size_t i = 0; i < values.size(); ++i) {
        const double v = values[i];
        if (dtype == DType::kFloat32) x.data<float>()[i] = static_cast<float>(v);
        if (dtype == DType::kFloat64) x.data<double>()[i] = v;
        if (dtype == DType::kInt32) x.data<int32_t>()[i] = std::isfinite(v) ? int32_t(v) : 7;
      }
      auto got = device->Run({x}, {});
      auto want = host->Run({x}, {});
      ASSERT_TRUE(got.ok()) << op << ": " << got.status();
      ASSERT_TRUE(want.ok()) << op << ": " << want.status();
      const Tensor& w = want->outputs[0];
      ASSERT_EQ(got->outputs[0].dtype(), w.dtype());
      const bool single = w.dtype() == DType::kFloat32;
      for (size_t i = 0; i < values.size(); ++i) {
        const double a =
            single ? got->outputs[0].data<float>()[i] : got->outputs[0].data<double>()[i];
        const double b = single ? w.data<float>()[i] : w.data<double>()[i];
        const std::string what =
            std::string(op) + " " + DTypeName(dtype) + " of " + std::to_string(values[i]);
        if (std::isnan(b) || std::isinf(b)) {
          EXPECT_TRUE(std::isnan(b) ? std::isnan(a) : a == b) << what << ": " << a << " " << b;
          continue;
        }
        // A few ULP of each library's functions; near a root of the result (psi's), absolute.
        EXPECT_NEAR(a, b, (single ? 2e-6 : 1e-13) * std::max(1.0, std::abs(b))) << what;
      }
    }
  }
}

// A profiled run times each device node on the device between two marks (CUDA events on a GPU,
// the clock on the emulator), waiting for its work; host nodes keep the host's times.
TEST(TENSORD_PROVIDER_TEST_SUITE, ProfiledRunsTimeDeviceNodesOnTheDevice) {
  SKIP_WITHOUT_THE_DEVICE();
  auto exe = Build(kOn);
  ASSERT_NE(exe, nullptr);
  const Tensor x = Filled({64, 333}, 3.0f), b = Filled({333}, 1.0f);
  compile::RunTrace trace;
  auto got = exe->Run({x, b}, {}, &trace);
  ASSERT_TRUE(got.ok()) << got.status();
  const auto& ins = exe->instructions();
  ASSERT_EQ(trace.device_timed.size(), ins.size());
  int on_device = 0;
  for (size_t i = 0; i < ins.size(); ++i) {
    EXPECT_EQ(trace.device_timed[i], ins[i].device != nullptr) << ins[i].label;
    on_device += trace.device_timed[i] ? 1 : 0;
  }
  // The uploads of x and b, the composite and the sqr (the copies back run on the host).
  EXPECT_GE(on_device, 4);
}

// A constant operand moves to the device (a GPU's kernels read only its memory) once, when the
// function is built, and a shape of a value on the device is read on the host.
TEST(TENSORD_PROVIDER_TEST_SUITE, ConstantsMoveUpAndShapesAreReadOnTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
  g->inputs() = {x};
  const Tensor c = Filled({333}, 2.0f);
  ir::Variable* constant = g->AddConstant(c, ir::Type::Of(DType::kFloat32, 1), "c");
  ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", kOn}});
  g->outputs() = {
      Node(*g, "transfer", {Node(*g, "sub", {xd, constant})}, {{"target", std::string("cpu")}}),
      Node(*g, "shape_i", {xd}, {{"i", int64_t{0}}})};
  auto exe = Compiled(std::move(g));
  ASSERT_NE(exe, nullptr);
  const Tensor in = Filled({5, 333}, 1.0f);
  // The constant went up when the function was built and stays: a run sends only x.
  runtime::MemoryCounter* device = runtime::MemoryCounterFor(kOn);
  const int64_t sent = device->transferred(runtime::TransferDirection::kHostToDevice);
  auto got = exe->Run({in}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(device->transferred(runtime::TransferDirection::kHostToDevice) - sent, in.num_bytes());
  for (int64_t i = 0; i < in.num_elements(); ++i) {
    ASSERT_EQ(got->outputs[0].data<float>()[i], in.data<float>()[i] - c.data<float>()[i % 333]);
  }
  EXPECT_EQ(*got->outputs[1].data<int64_t>(), 5);
}

// Full reductions of an elementwise expression (one reducing composite after reduction_fusion)
// against the host's, an empty max refused as on the host.
TEST(TENSORD_PROVIDER_TEST_SUITE, ReductionsOfExpressionsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  for (const char* reduce : {"sum", "mean", "max", "min"}) {
    auto build = [&](const std::string& where) {
      auto g = std::make_unique<ir::Graph>();
      ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
      ir::Variable* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
      g->inputs() = {x, b};
      ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", where}});
      ir::Variable* bd = Node(*g, "transfer", {b}, {{"target", where}});
      ir::Variable* r = Node(*g, reduce, {Node(*g, "mul", {Node(*g, "exp", {xd}), bd})});
      g->outputs() = {Node(*g, "transfer", {r}, {{"target", std::string("cpu")}})};
      return Compiled(std::move(g));
    };
    auto gpu = build(kOn), host = build("cpu");
    for (int64_t rows : {1, 77, 5000}) {  // one block, several, the most partials
      const Tensor x = Filled({rows, 333}, 2.0f), b = Filled({333}, 1.0f);
      auto got = gpu->Run({x, b}, {});
      auto want = host->Run({x, b}, {});
      ASSERT_TRUE(got.ok()) << reduce << ": " << got.status();
      ASSERT_TRUE(want.ok()) << want.status();
      const float g = *got->outputs[0].data<float>(), w = *want->outputs[0].data<float>();
      ASSERT_NEAR(g, w, 1e-5f * std::max(1.0f, std::abs(w))) << reduce << " over " << rows;
    }
    auto empty = gpu->Run({Tensor(DType::kFloat32, {0, 333}), Filled({333}, 1.0f)}, {});
    if (std::string(reduce) == "max" || std::string(reduce) == "min") {
      EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument) << reduce;
    } else {
      ASSERT_TRUE(empty.ok()) << empty.status();
      EXPECT_EQ(std::isnan(*empty->outputs[0].data<float>()), std::string(reduce) == "mean");
    }
  }
}

// The graph of a dense layer and its gradient's products: tanh(x W + b) (a dot_composite with
// the gemm prelude), x W2 + g (a gemm), g W^T (tensordot), x^T g (a dimshuffle view into dot),
// each brought to the host, compiled with FAST_RUN's passes for `where`.
std::shared_ptr<compile::Executable> LayerProducts(const std::string& where) {
  auto g = std::make_unique<ir::Graph>();
  const ir::Type matrix = ir::Type::Of(DType::kFloat32, 2);
  ir::Variable* x = g->AddInput(matrix, "x");
  ir::Variable* w = g->AddInput(matrix, "w");
  ir::Variable* w2 = g->AddInput(matrix, "w2");
  ir::Variable* b = g->AddInput(ir::Type::Of(DType::kFloat32, 1), "b");
  ir::Variable* gr = g->AddInput(matrix, "g");
  g->inputs() = {x, w, w2, b, gr};
  auto on = [&](ir::Variable* v) { return Node(*g, "transfer", {v}, {{"target", where}}); };
  auto down = [&](ir::Variable* v) {
    return Node(*g, "transfer", {v}, {{"target", std::string("cpu")}});
  };
  ir::Variable *xd = on(x), *wd = on(w), *gd = on(gr);
  ir::Variable* h = Node(*g, "tanh", {Node(*g, "add", {Node(*g, "dot", {xd, wd}), on(b)})});
  ir::Variable* scaled = Node(*g, "add", {Node(*g, "dot", {xd, on(w2)}), gd});
  ir::Variable* back =
      Node(*g, "tensordot", {gd, wd},
           {{"axes_a", std::vector<int64_t>{1}}, {"axes_b", std::vector<int64_t>{1}}});
  ir::Variable* xt = Node(*g, "dimshuffle", {xd}, {{"new_order", std::vector<int64_t>{1, 0}}});
  g->outputs() = {down(h), down(scaled), down(back), down(Node(*g, "dot", {xt, gd}))};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ALayersProductsAsTheOptimizerMakesThemMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto gpu = LayerProducts(kOn), host = LayerProducts("cpu");
  ASSERT_NE(gpu, nullptr);
  ASSERT_NE(host, nullptr);
  for (const char* op : {"dot_composite", "gemm", "tensordot", "dimshuffle"}) {
    EXPECT_TRUE(Runs(*gpu, op)) << op;
  }
  const Tensor x = Filled({64, 48}, 1.0f), w = Filled({48, 48}, 0.2f), w2 = Filled({48, 48}, -0.1f),
               b = Filled({48}, 0.5f), gr = Filled({64, 48}, 0.3f);
  auto got = gpu->Run({x, w, w2, b, gr}, {});
  auto want = host->Run({x, w, w2, b, gr}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  for (size_t o = 0; o < want->outputs.size(); ++o) {
    const Tensor& g = got->outputs[o];
    const Tensor& wv = want->outputs[o];
    ASSERT_EQ(g.shape(), wv.shape()) << o;
    for (int64_t i = 0; i < wv.num_elements(); ++i) {
      ASSERT_NEAR(g.data<float>()[i], wv.data<float>()[i],
                  1e-4f * std::max(1.0f, std::abs(wv.data<float>()[i])))
          << "output " << o << " element " << i;
    }
  }
}

// Integer-array indexing and its increment: x[i, j] and x[i] with index arrays of two dtypes
// that broadcast, negative indices, repeated ones (which accumulate), and a value y that
// broadcasts; an index out of bounds is INVALID_ARGUMENT as on the host.
std::shared_ptr<compile::Executable> Indexing(const std::string& where, const std::string& op,
                                              int arrays) {
  auto g = std::make_unique<ir::Graph>();
  const bool inc = op.find("inc") != std::string::npos;
  ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 3), "x");
  ir::Variable* y = g->AddInput(ir::Type::Of(DType::kFloat64, 1), "y");  // converted to x's
  const bool one_array_op = op.back() == '1';  // advanced_subtensor1: a vector of rows
  ir::Variable* i = g->AddInput(ir::Type::Of(DType::kInt32, one_array_op ? 1 : 2), "i");
  ir::Variable* j = g->AddInput(ir::Type::Of(DType::kInt64, 1), "j");
  g->inputs() = {x, y, i, j};
  auto on = [&](ir::Variable* v) { return Node(*g, "transfer", {v}, {{"target", where}}); };
  std::vector<ir::Variable*> in = {on(x)};
  if (inc) in.push_back(on(y));
  in.push_back(on(i));
  if (arrays == 2) in.push_back(on(j));
  ir::Attrs attrs;
  if (inc) attrs["set_instead_of_inc"] = false;
  if (op == "advanced_subtensor" || op == "advanced_inc_subtensor") {
    std::vector<int64_t> idx;
    for (int a = 0; a < arrays; ++a) idx.insert(idx.end(), {2, 0, 0, 0});
    attrs["idx_list"] = idx;
  }
  g->outputs() = {
      Node(*g, "transfer", {Node(*g, op, in, attrs)}, {{"target", std::string("cpu")}})};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, IntegerArrayIndexingMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  Tensor x = Filled({5, 4, 3}, 2.0f);
  Tensor y(DType::kFloat64, {3});
  for (int k = 0; k < 3; ++k) y.data<double>()[k] = 0.25 * (k + 1);
  Tensor i(DType::kInt32, {2, 3});  // rows, -1 the last, 2 twice
  const int32_t rows[] = {0, 2, -1, 2, 3, 2};
  std::copy(rows, rows + 6, i.data<int32_t>());
  Tensor j(DType::kInt64, {3});  // broadcast over i's rows
  const int64_t cols[] = {1, -4, 3};
  std::copy(cols, cols + 3, j.data<int64_t>());
  struct Case {
    const char* op;
    int arrays;
  };
  for (Case c : {Case{"advanced_subtensor", 2}, Case{"advanced_subtensor", 1},
                 Case{"advanced_subtensor1", 1}, Case{"advanced_inc_subtensor", 2},
                 Case{"advanced_inc_subtensor1", 1}}) {
    auto device = Indexing(kOn, c.op, c.arrays), host = Indexing("cpu", c.op, c.arrays);
    ASSERT_NE(device, nullptr) << c.op;
    ASSERT_NE(host, nullptr) << c.op;
    Tensor index = i;
    if (std::string(c.op).back() == '1') {  // one array on axis 0: a vector of rows
      index = Tensor(DType::kInt32, {4});
      const int32_t some_rows[] = {4, -5, 1, 1};
      std::copy(some_rows, some_rows + 4, index.data<int32_t>());
    }
    Tensor values = y;
    if (c.arrays == 1 && std::string(c.op).find("inc") != std::string::npos) {
      values = Tensor(DType::kFloat64, {3});  // broadcast over the rows and the columns
      for (int k = 0; k < 3; ++k) values.data<double>()[k] = -0.5 * k;
    }
    auto got = device->Run({x, values, index, j}, {});
    auto want = host->Run({x, values, index, j}, {});
    ASSERT_TRUE(want.ok()) << c.op << ": " << want.status();
    ASSERT_TRUE(got.ok()) << c.op << ": " << got.status();
    const Tensor& gv = got->outputs[0];
    const Tensor& wv = want->outputs[0];
    ASSERT_EQ(gv.shape(), wv.shape()) << c.op;
    for (int64_t e = 0; e < wv.num_elements(); ++e) {
      ASSERT_NEAR(gv.data<float>()[e], wv.data<float>()[e], 1e-6f) << c.op << " element " << e;
    }
    // An index past the end, on the device as on the host.
    Tensor bad(index.dtype(), index.shape());
    std::copy(index.data<int32_t>(), index.data<int32_t>() + index.num_elements(),
              bad.data<int32_t>());
    bad.data<int32_t>()[1] = 5;  // the host names the first it meets: so must the device
    bad.data<int32_t>()[bad.num_elements() - 1] = 7;
    auto refused = device->Run({x, values, bad, j}, {});
    auto host_refused = host->Run({x, values, bad, j}, {});
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << c.op;
    // The same words after the node's label (whose operands' names differ).
    EXPECT_EQ(Words(refused.status()), Words(host_refused.status())) << c.op;
    EXPECT_NE(Words(refused.status()).find("is out of bounds for axis 0 with size 5"),
              std::string::npos)
        << refused.status();
  }
}

// Unsigned indices past int64's range are out of bounds, as on the host (not -1, the last).
TEST(TENSORD_PROVIDER_TEST_SUITE, UnsignedIndicesPastInt64AreOutOfBounds) {
  SKIP_WITHOUT_THE_DEVICE();
  auto build = [](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    ir::Variable* i = g->AddInput(ir::Type::Of(DType::kUInt64, 1), "i");
    g->inputs() = {x, i};
    auto on = [&](ir::Variable* v) { return Node(*g, "transfer", {v}, {{"target", where}}); };
    g->outputs() = {Node(*g, "transfer", {Node(*g, "advanced_subtensor1", {on(x), on(i)})},
                         {{"target", std::string("cpu")}})};
    return Compiled(std::move(g));
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  Tensor i(DType::kUInt64, {2});
  i.data<uint64_t>()[0] = 1;
  i.data<uint64_t>()[1] = ~uint64_t{0};
  auto got = device->Run({Filled({3, 4}, 1.0f), i}, {});
  auto want = host->Run({Filled({3, 4}, 1.0f), i}, {});
  EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument) << got.status();
  EXPECT_EQ(want.status().code(), absl::StatusCode::kInvalidArgument) << want.status();
  EXPECT_NE(got.status().message().find("index 18446744073709551615 is out of bounds for axis 0"),
            std::string::npos)
      << got.status();
}

// reshape on the device, its shape read on the host: a view of a contiguous value, a copy of a
// transposed one; arange's values made on the device from bounds on the host, as the host
// makes them (int64, and float32 with a fractional step).
TEST(TENSORD_PROVIDER_TEST_SUITE, ReshapeAndArangeMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  auto build = [](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    ops::NodeBuilder b(*g);
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    ir::Variable* n = g->AddInput(ir::Type::Scalar(DType::kInt64), "n");
    g->inputs() = {x, n};
    ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", where}});
    ir::Variable* xt = Node(*g, "dimshuffle", {xd}, {{"new_order", std::vector<int64_t>{1, 0}}});
    Tensor flat(DType::kInt64, {1});
    *flat.data<int64_t>() = -1;
    ir::Variable* shape = g->AddConstant(flat, ir::Type::Of(DType::kInt64, 1));
    auto down = [&](ir::Variable* v) {
      return Node(*g, "transfer", {v}, {{"target", std::string("cpu")}});
    };
    ir::Variable* ints =
        Node(*g, "arange", {b.Constant(3, DType::kInt64), n, b.Constant(2, DType::kInt64)},
             {{"dtype", DType::kInt64}});
    ir::Variable* floats =
        Node(*g, "arange", {b.Constant(0.5, DType::kFloat64), n, b.Constant(0.25, DType::kFloat64)},
             {{"dtype", DType::kFloat32}});
    // The aranges read by something on the device, so that they are made there.
    g->outputs() = {down(Node(*g, "reshape", {xd, shape}, {{"ndim", int64_t{1}}})),
                    down(Node(*g, "reshape", {xt, shape}, {{"ndim", int64_t{1}}})),
                    down(Node(*g, "transfer", {ints}, {{"target", where}})),
                    down(Node(*g, "add",
                              {Node(*g, "transfer", {floats}, {{"target", where}}),
                               Node(*g, "transfer", {floats}, {{"target", where}})}))};
    return Compiled(std::move(g), where);  // what pins nothing (the aranges) runs there
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  EXPECT_TRUE(Runs(*device, "reshape"));
  Tensor n(DType::kInt64, {});
  *n.data<int64_t>() = 12;
  const Tensor x = Filled({3, 5}, 1.0f);
  // Only x goes up: the aranges are made on the device, their bounds staying on the host.
  runtime::MemoryCounter* on_device = runtime::MemoryCounterFor(kOn);
  const int64_t sent = on_device->transferred(runtime::TransferDirection::kHostToDevice);
  auto got = device->Run({x, n}, {});
  EXPECT_EQ(on_device->transferred(runtime::TransferDirection::kHostToDevice) - sent,
            x.num_bytes());
  auto want = host->Run({x, n}, {});
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_TRUE(want.ok()) << want.status();
  for (size_t o = 0; o < want->outputs.size(); ++o) {
    const Tensor& g = got->outputs[o];
    const Tensor& w = want->outputs[o];
    ASSERT_EQ(g.shape(), w.shape()) << o;
    ASSERT_EQ(g.dtype(), w.dtype()) << o;
    ASSERT_EQ(std::memcmp(g.raw(), w.raw(), w.num_bytes()), 0) << "output " << o;
  }
}

// Basic indexing on the device is the host's view (a symbolic index read on the host), which the
// device's kernels then read through its strides and offset: x[1:, ::2] * 2 and x[i] + 1.
TEST(TENSORD_PROVIDER_TEST_SUITE, SubtensorViewsMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  constexpr int64_t kNone = ops::subtensor::kIndexNone;
  constexpr int64_t kSymbolic = ops::subtensor::kIndexSymbolic;
  auto build = [&](const std::string& where) {
    auto g = std::make_unique<ir::Graph>();
    ir::Variable* x = g->AddInput(ir::Type::Of(DType::kFloat32, 2), "x");
    ir::Variable* i = g->AddInput(ir::Type::Scalar(DType::kInt64), "i");
    g->inputs() = {x, i};
    ops::NodeBuilder b(*g);
    ir::Variable* xd = Node(*g, "transfer", {x}, {{"target", where}});
    ir::Variable* corner =
        Node(*g, "subtensor", {xd},
             {{"idx_list", std::vector<int64_t>{1, 1, kNone, kNone, 1, kNone, kNone, 2}}});
    ir::Variable* row =
        Node(*g, "subtensor", {xd, i}, {{"idx_list", std::vector<int64_t>{0, kSymbolic, 0, 0}}});
    auto down = [&](ir::Variable* v) {
      return Node(*g, "transfer", {v}, {{"target", std::string("cpu")}});
    };
    g->outputs() = {down(Node(*g, "mul", {corner, b.Constant(2, DType::kFloat32)})),
                    down(Node(*g, "add", {row, b.Constant(1, DType::kFloat32)}))};
    return Compiled(std::move(g), where);
  };
  auto device = build(kOn), host = build("cpu");
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Filled({4, 5}, 1.0f);
  for (int64_t index : {2, -1}) {
    Tensor i(DType::kInt64, {});
    *i.data<int64_t>() = index;
    runtime::MemoryCounter* on_device = runtime::MemoryCounterFor(kOn);
    const int64_t sent = on_device->transferred(runtime::TransferDirection::kHostToDevice);
    auto got = device->Run({x, i}, {});
    auto want = host->Run({x, i}, {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    // Only x went up: the index stayed on the host.
    EXPECT_EQ(on_device->transferred(runtime::TransferDirection::kHostToDevice) - sent,
              x.num_bytes());
    for (size_t o = 0; o < 2; ++o) {
      ASSERT_EQ(got->outputs[o].shape(), want->outputs[o].shape()) << o;
      ASSERT_EQ(
          std::memcmp(got->outputs[o].raw(), want->outputs[o].raw(), want->outputs[o].num_bytes()),
          0)
          << "output " << o << " for index " << index;
    }
  }
  Tensor past(DType::kInt64, {});
  *past.data<int64_t>() = 4;
  EXPECT_EQ(device->Run({x, past}, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tensord::cuda
