// MRG31k3p against its textbook definition: the shift-and-mask arithmetic of Theano's C code
// must equal the recurrences computed with plain 64-bit products and modulo.
#include "engine/backends/cpu/random_mrg.h"

#include <gtest/gtest.h>

#include <array>

namespace tensord::cpu {
namespace {

// x1[n] = (2^22 x1[n-2] + (2^7 + 1) x1[n-3]) mod m1; x2[n] = (2^15 x2[n-1] + (2^15 + 1) x2[n-3])
// mod m2; output (x1[n] - x2[n]) mod m1, with m1 for 0 (L'Ecuyer and Touzin, 2000).
struct TextbookMrg {
  std::array<int64_t, 3> x1, x2;  // newest first
  int64_t Next() {
    const int64_t m1 = kMrgM1, m2 = kMrgM2;
    const int64_t n1 = ((int64_t{1} << 22) * x1[1] + 129 * x1[2]) % m1;
    const int64_t n2 = ((int64_t{1} << 15) * x2[0] + 32769 * x2[2]) % m2;
    x1 = {n1, x1[0], x1[1]};
    x2 = {n2, x2[0], x2[1]};
    const int64_t d = n1 - n2;
    return d <= 0 ? d + m1 : d;
  }
};

TEST(MrgTest, MatchesTheTextbookRecurrence) {
  for (int32_t seed : {1, 12345, 2147462578, 987654321}) {
    int32_t state[6] = {seed, seed, seed, seed, seed, seed};
    TextbookMrg ref{{seed, seed, seed}, {seed, seed, seed}};
    for (int i = 0; i < 20000; ++i) {
      const int64_t expected = ref.Next();
      ASSERT_EQ(MrgNextRaw(state), expected) << "seed " << seed << " draw " << i;
    }
    EXPECT_EQ(state[0], ref.x1[0]);
    EXPECT_EQ(state[5], ref.x2[2]);
  }
}

TEST(MrgTest, UniformsLieInTheOpenUnitInterval) {
  int32_t state[6] = {7, 7, 7, 7, 7, 7};
  MrgStreams streams(state, 1);
  double sum = 0;
  for (int i = 0; i < 100000; ++i) {
    const double d = streams.NextDouble();
    const float f = streams.NextFloat();
    ASSERT_GT(d, 0.0);
    ASSERT_LT(d, 1.0);
    ASSERT_GT(f, 0.0f);
    ASSERT_LT(f, 1.0f);
    sum += d;
  }
  EXPECT_NEAR(sum / 100000, 0.5, 0.01);
  // The extreme raw value M1 (x1 == x2) still maps below 1 in float32.
  EXPECT_LT(static_cast<float>(kMrgM1) * 4.6566126e-10f, 1.0f);
}

TEST(MrgTest, DrawsRoundRobinOverStreams) {
  int32_t two[12] = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};
  int32_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {11, 12, 13, 14, 15, 16};
  MrgStreams streams(two, 2);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(streams.NextRaw(), MrgNextRaw(a));
    EXPECT_EQ(streams.NextRaw(), MrgNextRaw(b));
  }
}

TEST(MrgTest, NextBelowStaysInRange) {
  int32_t state[6] = {3, 3, 3, 3, 3, 3};
  MrgStreams streams(state, 1);
  std::array<int, 7> hits{};
  for (int i = 0; i < 70000; ++i) {
    const int64_t j = streams.NextBelow(7);
    ASSERT_GE(j, 0);
    ASSERT_LT(j, 7);
    ++hits[j];
  }
  for (int h : hits) EXPECT_NEAR(h, 10000, 500);
}

TEST(MrgTest, StateCopyRefusesBadShapes) {
  runtime::Tensor out;
  runtime::Tensor wrong_cols(DType::kInt32, {2, 5});
  EXPECT_EQ(CopyMrgState(wrong_cols, out, "op").code(), absl::StatusCode::kInvalidArgument);
  runtime::Tensor wrong_dtype(DType::kInt64, {1, 6});
  EXPECT_EQ(CopyMrgState(wrong_dtype, out, "op").code(), absl::StatusCode::kInvalidArgument);
  runtime::Tensor empty(DType::kInt32, {0, 6});
  EXPECT_EQ(CopyMrgState(empty, out, "op").code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace tensord::cpu
