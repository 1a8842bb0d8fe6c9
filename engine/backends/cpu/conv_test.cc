// The two convolution paths agree: oneDNN's float32 primitives and im2col + GEMM, over random
// geometries of 1 to 3 spatial dims (strides, dilations, pads, groups), for all three kinds.
// The conformance suite checks both against NumPy loops through the server; this covers the
// geometries the clients do not expose (1-d) and many more of them.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cmath>
#include <random>
#include <thread>

#include "engine/backends/cpu/conv_gemm.h"
#include "engine/backends/cpu/conv_onednn.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using Kind = OneDnnConv::Kind;

ops::ConvGeometry RandomGeometry(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  ops::ConvGeometry g;
  const int nd = pick(1, 3);
  g.groups = pick(1, 3);
  g.batch = pick(1, 3);
  g.channels = g.groups * pick(1, 3);
  g.out_channels = g.groups * pick(1, 3);
  for (int d = 0; d < nd; ++d) {
    g.kernel.push_back(pick(1, 3));
    g.stride.push_back(pick(1, 3));
    g.dilation.push_back(pick(1, 2));
    g.pad.push_back(pick(0, 2));
    const int64_t dilated = (g.kernel[d] - 1) * g.dilation[d] + 1;
    g.in.push_back(std::max<int64_t>(dilated - 2 * g.pad[d], 1) + pick(0, 6));
    g.out.push_back((g.in[d] + 2 * g.pad[d] - dilated) / g.stride[d] + 1);
  }
  return g;
}

std::vector<float> Random(std::mt19937& rng, const runtime::Shape& shape) {
  std::vector<float> v(runtime::NumElements(shape));
  std::normal_distribution<float> normal;
  for (float& x : v) x = normal(rng);
  return v;
}

// Both paths compute all three kinds of `g` alike.
void ExpectPathsAgree(const ops::ConvGeometry& g, std::mt19937& rng, int trial) {
  const std::vector<float> x = Random(rng, g.InputShape()), w = Random(rng, g.FilterShape()),
                           dy = Random(rng, g.OutputShape());
  for (Kind kind : {Kind::kForward, Kind::kBackwardData, Kind::kBackwardWeights}) {
    const runtime::Shape out_shape = kind == Kind::kForward        ? g.OutputShape()
                                     : kind == Kind::kBackwardData ? g.InputShape()
                                                                   : g.FilterShape();
    std::vector<float> want(runtime::NumElements(out_shape)), got(want.size(), -1);
    OneDnnConv onednn(kind);
    switch (kind) {
      case Kind::kForward:
        ASSERT_TRUE(ConvForwardGemm(g, x.data(), w.data(), want.data()).ok());
        ASSERT_TRUE(onednn.Run(g, x.data(), w.data(), got.data()).ok());
        break;
      case Kind::kBackwardData:
        ASSERT_TRUE(ConvBackwardDataGemm(g, w.data(), dy.data(), want.data()).ok());
        ASSERT_TRUE(onednn.Run(g, w.data(), dy.data(), got.data()).ok());
        break;
      case Kind::kBackwardWeights:
        ASSERT_TRUE(ConvBackwardWeightsGemm(g, x.data(), dy.data(), want.data()).ok());
        ASSERT_TRUE(onednn.Run(g, x.data(), dy.data(), got.data()).ok());
        break;
    }
    // Float32 rounding grows with the number of products each result sums (in another order
    // on each path): the filter gradient sums over the whole batch (the filter size bounds the
    // others).
    const double terms =
        kind == Kind::kBackwardWeights
            ? static_cast<double>(runtime::NumElements(g.OutputShape()) / g.out_channels)
            : static_cast<double>(runtime::NumElements(g.FilterShape()));
    const double tolerance = std::max(1e-4, 2e-5 * std::sqrt(terms));
    for (size_t i = 0; i < want.size(); ++i) {
      ASSERT_NEAR(got[i], want[i], tolerance * (1 + std::abs(want[i])))
          << "trial " << trial << " kind " << static_cast<int>(kind) << " element " << i;
    }
  }
}

TEST(Conv, OneDnnMatchesIm2ColGemm) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 60; ++trial) ExpectPathsAgree(RandomGeometry(rng), rng, trial);
}

// Convolutions big enough that im2col + GEMM splits the batch into blocks of images over the
// threads (each block its own columns; the filter gradient summed per block, then added).
TEST(Conv, Im2ColGemmSplitsTheBatchAlike) {
  std::mt19937 rng(13);
  for (int threads : {2, 3}) {
    runtime::SetIntraOpThreads(threads);
    for (int trial = 0; trial < 2; ++trial) {
      ops::ConvGeometry g;
      g.batch = 5;  // blocks of unequal sizes
      g.groups = 1 + trial;
      g.channels = 16;
      g.out_channels = 16;
      g.kernel = {3, 3};
      g.stride = {1, 2};
      g.dilation = {1, 1};
      g.pad = {1, 0};
      g.in = {48, 49};
      g.out = {48, 24};  // 4M multiply-adds or more: the split's threshold
      ExpectPathsAgree(g, rng, trial);
    }
  }
  runtime::SetIntraOpThreads(0);
}

// One kernel object serves every shape it is given (more than it keeps) and concurrent runs, as
// an executable shared by several sessions calls it.
TEST(Conv, OneDnnKernelServesNewShapesAndConcurrentCalls) {
  std::mt19937 rng(11);
  OneDnnConv onednn(Kind::kForward);
  struct Case {
    ops::ConvGeometry g;
    std::vector<float> x, w, want;
  };
  std::vector<Case> cases;
  for (int i = 0; i < 20; ++i) {
    Case c{RandomGeometry(rng), {}, {}, {}};
    c.x = Random(rng, c.g.InputShape());
    c.w = Random(rng, c.g.FilterShape());
    c.want.resize(runtime::NumElements(c.g.OutputShape()));
    ASSERT_TRUE(ConvForwardGemm(c.g, c.x.data(), c.w.data(), c.want.data()).ok());
    cases.push_back(std::move(c));
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (size_t k = 0; k < cases.size(); ++k) {
          const Case& c = cases[(k + t * 5) % cases.size()];
          std::vector<float> got(c.want.size());
          if (!onednn.Run(c.g, c.x.data(), c.w.data(), got.data()).ok()) ++mismatches;
          for (size_t i = 0; i < got.size(); ++i)
            if (std::abs(got[i] - c.want[i]) > 1e-4 * (1 + std::abs(c.want[i]))) ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// oneDNN's OpenMP team follows --intra_op_threads (runtime::SetIntraOpThreads), not the
// OpenMP default of one thread per core; a small convolution runs on one thread.
TEST(Conv, OneDnnTeamFollowsIntraOpThreadsAndSize) {
  std::mt19937 rng(3);
  ops::ConvGeometry big;
  big.batch = 4, big.channels = 16, big.out_channels = 16;
  big.in = {32, 32}, big.kernel = {3, 3}, big.out = {30, 30};
  big.stride = {1, 1}, big.pad = {0, 0}, big.dilation = {1, 1};
  ops::ConvGeometry small = big;
  small.batch = 1, small.channels = small.out_channels = 2;
  for (int threads : {1, 3}) {
    runtime::SetIntraOpThreads(threads);
    for (const ops::ConvGeometry* g : {&big, &small}) {
      const std::vector<float> x = Random(rng, g->InputShape()), w = Random(rng, g->FilterShape());
      std::vector<float> y(runtime::NumElements(g->OutputShape()));
      ASSERT_TRUE(OneDnnConv(Kind::kForward).Run(*g, x.data(), w.data(), y.data()).ok());
      EXPECT_EQ(omp_get_max_threads(), g == &big ? threads : 1) << threads;
    }
  }
  runtime::SetIntraOpThreads(0);  // back to the default, one per core
}

}  // namespace
}  // namespace tensord::cpu
