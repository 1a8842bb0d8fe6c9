// The deep-learning layers on a device (device_testing.h) against the host: the three
// convolution ops and conv_fused over random geometries of 1 to 3 spatial dims (strides,
// dilations, pads, groups, flipped or not), batches cut into several chunks; every pooling op
// and mode over overlapping, clipped and padded windows with NaNs and ties; batch normalization
// and its gradient over the axes of dense and convolutional layers, through views, and over
// nothing; and their errors in the host's words.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "engine/backends/cuda/provider/conv_kernels.h"
#include "engine/backends/cuda/provider/device_testing.h"
#include "engine/ops/node_builder.h"

namespace tensord::cuda {
namespace {

using compile::testing::Node;
using runtime::Shape;
using runtime::Tensor;
using testing::Compiled;
using testing::ExpectRefusedAsTheHost;
using testing::kOn;
using testing::Scrambled;
using testing::To;

// got equals want within rtol (relative to max(1, |want|)), NaN where want has NaN.
void ExpectClose(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double g = want.dtype() == DType::kFloat32 ? got.data<float>()[i] : got.data<double>()[i];
    const double w =
        want.dtype() == DType::kFloat32 ? want.data<float>()[i] : want.data<double>()[i];
    if (std::isnan(w)) {
      ASSERT_TRUE(std::isnan(g)) << what << " element " << i << ": " << g;
    } else if (std::isinf(w)) {
      ASSERT_EQ(g, w) << what << " element " << i;
    } else {
      ASSERT_NEAR(g, w, rtol * std::max(1.0, std::abs(w))) << what << " element " << i;
    }
  }
}

Tensor Normal(std::mt19937& rng, DType dtype, const Shape& shape) {
  Tensor t(dtype, shape);
  std::normal_distribution<double> normal;
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = normal(rng);
    if (dtype == DType::kFloat32) t.data<float>()[i] = static_cast<float>(v);
    if (dtype == DType::kFloat64) t.data<double>()[i] = v;
  }
  return t;
}

Tensor Ints(const std::vector<int64_t>& values) {
  Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
  for (size_t i = 0; i < values.size(); ++i) t.data<int64_t>()[i] = values[i];
  return t;
}

// One convolution's geometry and attributes.
struct Conv {
  DType dtype = DType::kFloat32;
  int64_t batch = 2, groups = 1, group_in = 2, group_out = 3;
  std::vector<int64_t> in, k, stride, dilation, pad;
  std::string border = "pad";
  bool flip = true;

  int nd() const { return static_cast<int>(in.size()); }
  Shape InputShape() const {
    Shape s{batch, groups * group_in};
    s.insert(s.end(), in.begin(), in.end());
    return s;
  }
  Shape FilterShape() const {
    Shape s{groups * group_out, group_in};
    s.insert(s.end(), k.begin(), k.end());
    return s;
  }
  int64_t Pad(int d) const {
    const int64_t dilated = (k[d] - 1) * dilation[d] + 1;
    if (border == "full") return dilated - 1;
    if (border == "half") return dilated / 2;
    return border == "valid" ? 0 : pad[d];
  }
  Shape OutputShape() const {
    Shape s{batch, groups * group_out};
    for (int d = 0; d < nd(); ++d)
      s.push_back((in[d] + 2 * Pad(d) - (k[d] - 1) * dilation[d] - 1) / stride[d] + 1);
    return s;
  }
  ir::Attrs Attrs(bool fused, bool relu) const {
    ir::Attrs a = {{"border_mode", border},       {"pad", pad},           {"subsample", stride},
                   {"filter_dilation", dilation}, {"num_groups", groups}, {"filter_flip", flip}};
    if (fused) a["activation"] = std::string(relu ? "relu" : "identity");
    return a;
  }
};

Conv RandomConv(std::mt19937& rng, int trial) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Conv c;
  c.dtype = trial % 2 == 0 ? DType::kFloat32 : DType::kFloat64;
  c.flip = trial % 3 != 0;
  c.batch = pick(1, 3);
  c.groups = pick(1, 3);
  c.group_in = pick(1, 3);
  c.group_out = pick(1, 3);
  const int nd = 1 + trial % 3;
  for (int d = 0; d < nd; ++d) {
    c.k.push_back(pick(1, 3));
    c.stride.push_back(pick(1, 3));
    c.dilation.push_back(pick(1, 2));
    c.pad.push_back(pick(0, 2));
    const int64_t dilated = (c.k[d] - 1) * c.dilation[d] + 1;
    c.in.push_back(std::max<int64_t>(dilated - 2 * c.pad[d], 1) + pick(0, 5));
  }
  return c;
}

// A 2-d convolution of `in` by `k` taps, stride and dilation 1, no padding.
Conv TwoD(std::vector<int64_t> in, std::vector<int64_t> k) {
  Conv c;
  c.in = std::move(in);
  c.k = std::move(k);
  c.stride = c.dilation = {1, 1};
  c.pad = {0, 0};
  return c;
}

// op(a, b[, third]) on `where`, the result back on the host. The third operand is conv_fused's
// bias (moved with the others) or a gradient's spatial shape (int64, which stays on the host).
std::shared_ptr<compile::Executable> ConvGraph(const std::string& where, const std::string& op,
                                               const Conv& c, bool relu = false) {
  auto g = std::make_unique<ir::Graph>();
  const int rank = c.nd() + 2;
  ir::Variable* a = g->AddInput(ir::Type::Of(c.dtype, rank), "a");
  ir::Variable* b = g->AddInput(ir::Type::Of(c.dtype, rank), "b");
  std::vector<ir::Variable*> operands = {To(*g, a, where), To(*g, b, where)};
  g->inputs() = {a, b};
  if (op != "conv") {
    std::vector<bool> per_channel(rank, true);
    per_channel[1] = false;
    ir::Variable* third = op == "conv_fused"
                              ? g->AddInput(ir::Type{c.dtype, per_channel}, "bias")
                              : g->AddInput(ir::Type::Of(DType::kInt64, 1), "spatial");
    g->inputs().push_back(third);
    operands.push_back(op == "conv_fused" ? To(*g, third, where) : third);
  }
  g->outputs() = {To(*g, Node(*g, op, operands, c.Attrs(op == "conv_fused", relu)), "cpu")};
  return Compiled(std::move(g));
}

// Every op of the convolution of `c` on the device and on the host, the results compared.
void ExpectConvLikeTheHost(const Conv& c, std::mt19937& rng, const std::string& what) {
  const Tensor x = Normal(rng, c.dtype, c.InputShape()), w = Normal(rng, c.dtype, c.FilterShape()),
               dy = Normal(rng, c.dtype, c.OutputShape());
  Shape bias_shape(c.nd() + 2, 1);
  bias_shape[1] = c.groups * c.group_out;
  const Tensor bias = Normal(rng, c.dtype, bias_shape);
  const double rtol = c.dtype == DType::kFloat32 ? 2e-5 : 1e-12;
  struct Op {
    const char* name;
    std::vector<Tensor> operands;
    bool relu;
  };
  for (const Op& op : std::vector<Op>{{"conv", {x, w}, false},
                                      {"conv_fused", {x, w, bias}, true},
                                      {"conv_grad_inputs", {w, dy, Ints(c.in)}, false},
                                      {"conv_grad_weights", {x, dy, Ints(c.k)}, false}}) {
    auto device = ConvGraph(kOn, op.name, c, op.relu);
    auto host = ConvGraph("cpu", op.name, c, op.relu);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    auto got = device->Run(op.operands, {});
    auto want = host->Run(op.operands, {});
    ASSERT_TRUE(want.ok()) << what << " " << op.name << ": " << want.status();
    ASSERT_TRUE(got.ok()) << what << " " << op.name << ": " << got.status();
    ExpectClose(got->outputs[0], want->outputs[0], rtol, what + " " + op.name);
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ConvolutionsOfRandomGeometriesMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(7);
  for (int trial = 0; trial < 12; ++trial) {
    const Conv c = RandomConv(rng, trial);
    ExpectConvLikeTheHost(c, rng, "trial " + std::to_string(trial));
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ConvolutionBorderModesMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(11);
  for (const char* border : {"valid", "full", "half"}) {
    Conv c = TwoD({6, 5}, {3, 2});
    c.stride = {1, 2};
    c.dilation = {2, 1};
    c.border = border;
    ExpectConvLikeTheHost(c, rng, border);
  }
}

// A budget of columns smaller than one image's columns: every image is a chunk of its own,
// the filter gradient summing over chunks; then two images per chunk, the last one short.
TEST(TENSORD_PROVIDER_TEST_SUITE, ConvolutionsInSeveralChunksMatchTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(13);
  Conv c = TwoD({7, 6}, {3, 3});
  c.batch = 5;
  c.groups = 2;
  c.pad = {1, 0};
  // An image's columns and outputs, in float32 bytes.
  const int64_t image_columns = (c.groups * c.group_in * 9 + c.groups * c.group_out) * 7 * 4 * 4;
  for (int64_t budget : {int64_t{1}, 2 * image_columns}) {
    SetColumnBytesForTesting(budget);
    ExpectConvLikeTheHost(c, rng, "budget " + std::to_string(budget));
  }
  SetColumnBytesForTesting(0);
  Conv no_images = c;  // the filter gradient of an empty batch: zeros
  no_images.batch = 0;
  ExpectConvLikeTheHost(no_images, rng, "no images");
}

// One filter and a bias of several channels broadcast (the add conv_fused replaced did), a
// bias of one value, and empty operands (the bias over zeros).
TEST(TENSORD_PROVIDER_TEST_SUITE, FusedConvolutionBroadcastsLikeTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(17);
  Conv c = TwoD({5, 5}, {2, 2});
  c.group_out = 1;
  auto device = ConvGraph(kOn, "conv_fused", c, true);
  auto host = ConvGraph("cpu", "conv_fused", c, true);
  ASSERT_NE(device, nullptr);
  ASSERT_NE(host, nullptr);
  const Tensor x = Normal(rng, c.dtype, c.InputShape()), w = Normal(rng, c.dtype, c.FilterShape());
  const Tensor no_channels(c.dtype, {2, 0, 5, 5}), no_filters_in(c.dtype, {1, 0, 2, 2});
  Tensor x_nan = Normal(rng, c.dtype, c.InputShape());  // relu keeps NaN, as maximum(v, 0)
  x_nan.data<float>()[7] = std::numeric_limits<float>::quiet_NaN();
  struct Case {
    const char* what;
    Tensor x, w;
    Shape bias;
  };
  for (const Case& k :
       std::vector<Case>{{"one filter, four biases", x, w, {1, 4, 1, 1}},
                         {"one bias", x, w, {1, 1, 1, 1}},
                         {"a NaN through relu", x_nan, w, {1, 1, 1, 1}},
                         {"no input channel", no_channels, no_filters_in, {1, 1, 1, 1}}}) {
    const Tensor bias = Normal(rng, c.dtype, k.bias);
    auto got = device->Run({k.x, k.w, bias}, {});
    auto want = host->Run({k.x, k.w, bias}, {});
    ASSERT_TRUE(want.ok()) << k.what << ": " << want.status();
    ASSERT_TRUE(got.ok()) << k.what << ": " << got.status();
    ExpectClose(got->outputs[0], want->outputs[0], 2e-5, k.what);
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, ConvolutionErrorsAreTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(19);
  const Conv c = TwoD({5, 5}, {3, 3});
  const DType f = c.dtype;
  struct Case {
    const char* op;
    std::vector<Tensor> operands;
  };
  for (const Case& k : std::vector<Case>{
           // 3 input channels, filters taking 2.
           {"conv", {Normal(rng, f, {2, 3, 5, 5}), Normal(rng, f, {3, 2, 3, 3})}},
           // A filter larger than the input.
           {"conv", {Normal(rng, f, {2, 2, 2, 2}), Normal(rng, f, {3, 2, 3, 3})}},
           // Five biases for three output channels.
           {"conv_fused",
            {Normal(rng, f, {2, 2, 5, 5}), Normal(rng, f, {3, 2, 3, 3}),
             Normal(rng, f, {1, 5, 1, 1})}},
           // An output gradient the convolution does not give.
           {"conv_grad_weights",
            {Normal(rng, f, {2, 2, 5, 5}), Normal(rng, f, {2, 3, 4, 3}), Ints({3, 3})}},
           // A spatial shape of the wrong length.
           {"conv_grad_inputs",
            {Normal(rng, f, {3, 2, 3, 3}), Normal(rng, f, {2, 3, 3, 3}), Ints({5})}}}) {
    auto device = ConvGraph(kOn, k.op, c);
    auto host = ConvGraph("cpu", k.op, c);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    ExpectRefusedAsTheHost(*device, *host, k.operands, k.op);
  }
}

// op(x[, g]) pooling the last len(ws) dims on `where`, the result back on the host.
std::shared_ptr<compile::Executable> PoolGraph(const std::string& where, const std::string& op,
                                               DType dtype, int rank, const ir::Attrs& attrs) {
  auto g = std::make_unique<ir::Graph>();
  ir::Variable* x = g->AddInput(ir::Type::Of(dtype, rank), "x");
  g->inputs() = {x};
  std::vector<ir::Variable*> operands = {To(*g, x, where)};
  if (op != "pool") {
    ir::Variable* grad = g->AddInput(ir::Type::Of(dtype, rank), "g");
    g->inputs().push_back(grad);
    operands.push_back(To(*g, grad, where));
  }
  g->outputs() = {To(*g, Node(*g, op, operands, attrs), "cpu")};
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, PoolingMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    Shape x;
    std::vector<int64_t> ws, stride, pad;
    bool ignore_border;
  };
  const std::vector<Case> cases = {
      {{2, 3, 6, 8}, {2, 2}, {2, 2}, {0, 0}, true},           // tiled, the usual 2x2
      {{2, 7, 9}, {3, 3}, {1, 2}, {1, 1}, true},              // overlapping and padded
      {{1, 2, 7, 5}, {3, 2}, {2, 3}, {0, 0}, false},          // windows clipped at the border
      {{3, 10}, {4}, {3}, {2}, true},                         // 1-d
      {{1, 5, 4, 6}, {2, 3, 2}, {1, 2, 2}, {1, 0, 1}, true},  // 3-d over all dims but one
      {{5, 5}, {5, 5}, {5, 5}, {0, 0}, false},                // one window over everything
  };
  std::mt19937 rng(23);
  for (const Case& c : cases) {
    for (const char* mode : {"max", "sum", "average_inc_pad", "average_exc_pad"}) {
      for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
        const ir::Attrs attrs = {{"ws", c.ws},
                                 {"stride", c.stride},
                                 {"pad", c.pad},
                                 {"ignore_border", c.ignore_border},
                                 {"mode", std::string(mode)}};
        const bool max = std::string(mode) == "max";
        // Max pools values with NaNs, infinities and ties; the others finite values.
        const Tensor x = max ? Scrambled(dtype, c.x) : Normal(rng, dtype, c.x);
        const int rank = static_cast<int>(c.x.size());
        const std::string what = runtime::ShapeString(c.x) + " " + mode + " " + DTypeName(dtype);
        auto host_pool = PoolGraph("cpu", "pool", dtype, rank, attrs);
        ASSERT_NE(host_pool, nullptr);
        auto pooled = host_pool->Run({x}, {});
        ASSERT_TRUE(pooled.ok()) << what << ": " << pooled.status();
        const Tensor gz = Normal(rng, dtype, pooled->outputs[0].shape());
        const Tensor ggx = Normal(rng, dtype, c.x);
        struct Op {
          const char* name;
          std::vector<Tensor> operands;
        };
        std::vector<Op> ops = {{"pool", {x}}, {"pool_grad", {x, gz}}};
        if (max) ops.push_back({"pool_grad_grad", {x, ggx}});
        for (const Op& op : ops) {
          auto device = PoolGraph(kOn, op.name, dtype, rank, attrs);
          auto host = PoolGraph("cpu", op.name, dtype, rank, attrs);
          ASSERT_NE(device, nullptr);
          ASSERT_NE(host, nullptr);
          auto got = device->Run(op.operands, {});
          auto want = host->Run(op.operands, {});
          ASSERT_TRUE(want.ok()) << what << " " << op.name << ": " << want.status();
          ASSERT_TRUE(got.ok()) << what << " " << op.name << ": " << got.status();
          // Max routes and picks the host's bits; averages may add their shares in another
          // order.
          if (max) {
            EXPECT_TRUE(testing::SameBytes(got->outputs[0], want->outputs[0]))
                << what << " " << op.name;
          } else {
            ExpectClose(got->outputs[0], want->outputs[0], 1e-6, what + " " + op.name);
          }
        }
      }
    }
  }
}

TEST(TENSORD_PROVIDER_TEST_SUITE, PoolingErrorsAreTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  const ir::Attrs attrs = {{"ws", std::vector<int64_t>{2, 2}},
                           {"stride", std::vector<int64_t>{2, 2}},
                           {"pad", std::vector<int64_t>{0, 0}},
                           {"ignore_border", true},
                           {"mode", std::string("max")}};
  std::mt19937 rng(29);
  const Tensor x = Normal(rng, DType::kFloat32, {2, 4, 4});
  for (const char* op : {"pool_grad", "pool_grad_grad"}) {
    const Tensor wrong = Normal(rng, DType::kFloat32, {2, 3, 3});
    auto device = PoolGraph(kOn, op, DType::kFloat32, 3, attrs);
    auto host = PoolGraph("cpu", op, DType::kFloat32, 3, attrs);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    ExpectRefusedAsTheHost(*device, *host, {x, wrong}, op);
  }
}

// batch_norm_train (three outputs) or its gradient (three) over `axes` on `where`; x read through
// a transposing view of its first two dims when `view`.
std::shared_ptr<compile::Executable> BatchNormGraph(const std::string& where, bool train,
                                                    DType dtype, int rank,
                                                    std::vector<int64_t> axes, bool view) {
  auto g = std::make_unique<ir::Graph>();
  std::vector<ir::Variable*> operands;
  const int count = train ? 3 : 5;
  for (int k = 0; k < count; ++k) {
    ir::Variable* v = g->AddInput(ir::Type::Of(dtype, rank), "operand" + std::to_string(k));
    g->inputs().push_back(v);
    operands.push_back(To(*g, v, where));
  }
  if (view) {
    std::vector<int64_t> order(rank);
    for (int d = 0; d < rank; ++d) order[d] = d;
    std::swap(order[0], order[1]);
    operands[0] = Node(*g, "dimshuffle", {operands[0]}, {{"new_order", order}});
  }
  ir::Attrs attrs = {{"axis", std::move(axes)}};
  if (train) attrs["epsilon"] = 1e-3;
  ops::NodeBuilder b(*g);
  std::vector<ir::Variable*> outs =
      b.ApplyMulti(train ? "batch_norm_train" : "batch_norm_train_grad", operands, attrs);
  EXPECT_TRUE(b.status().ok()) << b.status();
  if (!b.status().ok()) return nullptr;
  for (ir::Variable*& v : outs) v = To(*g, v, "cpu");
  g->outputs() = outs;
  return Compiled(std::move(g));
}

TEST(TENSORD_PROVIDER_TEST_SUITE, BatchNormalizationMatchesTheHost) {
  SKIP_WITHOUT_THE_DEVICE();
  struct Case {
    Shape x;  // as given (before the view)
    std::vector<int64_t> axes;
    bool view;
    bool one_gamma;  // gamma of one value, broadcast
  };
  const std::vector<Case> cases = {
      {{37, 5}, {0}, false, false},             // a dense layer's features
      {{4, 3, 5, 6}, {0, 2, 3}, false, false},  // a convolutional layer's channels
      {{600, 2}, {0}, false, true},             // more elements than a block's threads
      {{3, 7, 4}, {1}, true, false},            // through a transposing view
      {{2, 3, 4}, {0, 1, 2}, false, false},     // every axis: one statistic
  };
  std::mt19937 rng(31);
  for (const Case& c : cases) {
    for (DType dtype : {DType::kFloat32, DType::kFloat64}) {
      Shape x_shape = c.x;  // the shape the op sees
      if (c.view) std::swap(x_shape[0], x_shape[1]);
      Shape stats = x_shape;
      for (int64_t a : c.axes) stats[a] = 1;
      const int rank = static_cast<int>(c.x.size());
      const std::string what = runtime::ShapeString(c.x) + " " + DTypeName(dtype);
      // x far from zero mean, as activations are: the statistics in double matter.
      Tensor x = Normal(rng, dtype, c.x);
      for (int64_t i = 0; i < x.num_elements(); ++i) {
        if (dtype == DType::kFloat32) x.data<float>()[i] = 50 + 3 * x.data<float>()[i];
      }
      const Tensor gamma = Normal(rng, dtype, c.one_gamma ? Shape(rank, 1) : stats);
      const Tensor beta = Normal(rng, dtype, stats);
      auto host_train = BatchNormGraph("cpu", true, dtype, rank, c.axes, c.view);
      auto device_train = BatchNormGraph(kOn, true, dtype, rank, c.axes, c.view);
      ASSERT_NE(host_train, nullptr);
      ASSERT_NE(device_train, nullptr);
      auto want = host_train->Run({x, gamma, beta}, {});
      auto got = device_train->Run({x, gamma, beta}, {});
      ASSERT_TRUE(want.ok()) << what << ": " << want.status();
      ASSERT_TRUE(got.ok()) << what << ": " << got.status();
      const double rtol = dtype == DType::kFloat32 ? 2e-6 : 1e-12;
      for (int k = 0; k < 3; ++k) {
        ExpectClose(got->outputs[k], want->outputs[k], rtol, what + " output " + std::to_string(k));
      }
      const Tensor dy = Normal(rng, dtype, x_shape);
      auto host_grad = BatchNormGraph("cpu", false, dtype, rank, c.axes, c.view);
      auto device_grad = BatchNormGraph(kOn, false, dtype, rank, c.axes, c.view);
      ASSERT_NE(host_grad, nullptr);
      ASSERT_NE(device_grad, nullptr);
      const std::vector<Tensor> grad_in = {x, dy, gamma, want->outputs[1], want->outputs[2]};
      auto want_grad = host_grad->Run(grad_in, {});
      auto got_grad = device_grad->Run(grad_in, {});
      ASSERT_TRUE(want_grad.ok()) << what << ": " << want_grad.status();
      ASSERT_TRUE(got_grad.ok()) << what << ": " << got_grad.status();
      for (int k = 0; k < 3; ++k) {
        ExpectClose(got_grad->outputs[k], want_grad->outputs[k],
                    dtype == DType::kFloat32 ? 2e-5 : 1e-11,
                    what + " gradient " + std::to_string(k));
      }
    }
  }
}

// Statistics of no element are NaN and their gradients 0, as on the host; bad operands are
// refused in the host's words.
TEST(TENSORD_PROVIDER_TEST_SUITE, BatchNormalizationEdgesAndErrorsAreTheHosts) {
  SKIP_WITHOUT_THE_DEVICE();
  std::mt19937 rng(37);
  const DType f = DType::kFloat32;
  const Tensor empty(f, {0, 4}), stats = Normal(rng, f, {1, 4});
  for (bool train : {true, false}) {
    auto device = BatchNormGraph(kOn, train, f, 2, {0}, false);
    auto host = BatchNormGraph("cpu", train, f, 2, {0}, false);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    const std::vector<Tensor> operands =
        train ? std::vector<Tensor>{empty, stats, stats}
              : std::vector<Tensor>{empty, empty, stats, stats, stats};
    auto got = device->Run(operands, {});
    auto want = host->Run(operands, {});
    ASSERT_TRUE(got.ok()) << got.status();
    ASSERT_TRUE(want.ok()) << want.status();
    for (int k = 0; k < 3; ++k) ExpectClose(got->outputs[k], want->outputs[k], 0, "empty");
  }
  const Tensor x = Normal(rng, f, {6, 4}), wrong = Normal(rng, f, {1, 3});
  struct Case {
    bool train;
    std::vector<Tensor> operands;
  };
  for (const Case& c : std::vector<Case>{{true, {x, wrong, stats}},                 // gamma
                                         {true, {x, stats, wrong}},                 // beta
                                         {false, {x, wrong, stats, stats, stats}},  // dy
                                         {false, {x, x, stats, stats, wrong}}}) {   // invstd
    auto device = BatchNormGraph(kOn, c.train, f, 2, {0}, false);
    auto host = BatchNormGraph("cpu", c.train, f, 2, {0}, false);
    ASSERT_NE(device, nullptr);
    ASSERT_NE(host, nullptr);
    ExpectRefusedAsTheHost(*device, *host, c.operands);
  }
}

}  // namespace
}  // namespace tensord::cuda
