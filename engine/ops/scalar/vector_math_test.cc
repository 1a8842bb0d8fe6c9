// Which instruction set's loops of vector_math.h the kernels call; that an element's result does
// not depend on its neighbours; that the sets with FMA give the same bits; float32 sigmoid's
// and tanh's bounds over floats of every magnitude. Their accuracy on random samples, for every set
// this CPU has, is tests/conformance/test_vector_math.py's (long-double references).
#include "engine/ops/scalar/vector_math.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace tensord::vmath {
namespace {

constexpr Isa kWidestFirst[] = {Isa::kAvx512, Isa::kAvx2, Isa::kSse2};

template <class T>
bool SameBits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0 || (std::isnan(a) && std::isnan(b));
}

// Every function of `table`: the unary ones of x, then the binary ones of x and y; one result
// array each, named "unary 3", "binary 0" (their index in Fn, Fn2).
template <class T>
std::vector<std::pair<std::string, std::vector<T>>> EveryFunction(const Table& table,
                                                                  const std::vector<T>& x,
                                                                  const std::vector<T>& y) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::vector<std::pair<std::string, std::vector<T>>> out;
  for (int f = 0; f < static_cast<int>(Fn::kCount); ++f) {
    out.emplace_back("unary " + std::to_string(f), std::vector<T>(x.size()));
    if constexpr (sizeof(T) == 4) {
      table.f32[f](x.data(), out.back().second.data(), n);
    } else {
      table.f64[f](x.data(), out.back().second.data(), n);
    }
  }
  for (int f = 0; f < static_cast<int>(Fn2::kCount); ++f) {
    out.emplace_back("binary " + std::to_string(f), std::vector<T>(x.size()));
    if constexpr (sizeof(T) == 4) {
      table.f32_binary[f](x.data(), y.data(), out.back().second.data(), n);
    } else {
      table.f64_binary[f](x.data(), y.data(), out.back().second.data(), n);
    }
  }
  return out;
}

TEST(VectorMath, KernelsCallTheWidestLoopsThisCpuHasUntilToldOtherwise) {
  for (Isa isa : kWidestFirst) {
    if (const Table* t = LoopsFor(isa)) {
      EXPECT_EQ(&Loops(), t) << Loops().isa << " called, " << t->isa << " available";
      return;
    }
  }
  FAIL() << "no loops at all, not even SSE2's";
}

TEST(VectorMath, UseLoopsSwitchesToAnySetTheCpuHasAndRefusesTheOthers) {
  const Table& widest = Loops();
  ASSERT_NE(LoopsFor(Isa::kSse2), nullptr);  // every x86-64 CPU
  for (Isa isa : kWidestFirst) {
    const Table* t = LoopsFor(isa);
    EXPECT_EQ(UseLoops(isa), t != nullptr);
    EXPECT_EQ(&Loops(), t != nullptr ? t : LoopsFor(Isa::kSse2));
    // Each set computes: exp(1) within one ULP.
    float e = 0;
    const float one = 1;
    Apply(Fn::kExp, &one, &e, 1);
    EXPECT_NEAR(e, 2.7182817f, 3e-7f) << Loops().isa;
  }
  for (Isa isa : kWidestFirst)
    if (LoopsFor(isa) == &widest) ASSERT_TRUE(UseLoops(isa));  // as the other tests expect
  EXPECT_EQ(&Loops(), &widest);
}

// An element's result must not depend on the elements beside it in its vector (DESIGN: a
// result never depends on where in an array it sits): each input computed in a vector of
// copies of itself, and again in vectors whose other lanes hold values that send SLEEF's
// functions down other paths (huge, tiny, non-finite).
template <class T>
void ExpectLaneIndependent(const Table& table) {
  constexpr int kGroup = 16;  // the widest vector; a multiple of every narrower one
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(-1, 1), exponent(-8, 8);
  std::vector<T> values;
  for (int i = 0; i < 4000; ++i)
    values.push_back(static_cast<T>(unit(rng) * std::pow(10.0, exponent(rng))));
  const T neighbours[] = {T(3e30),
                          T(-1e4),
                          T(200),
                          T(20),
                          T(1e15),
                          std::numeric_limits<T>::infinity(),
                          std::numeric_limits<T>::quiet_NaN(),
                          T(-0.0),
                          std::numeric_limits<T>::denorm_min(),
                          std::numeric_limits<T>::max(),
                          T(0.5),
                          T(-88.7)};
  const size_t n = values.size() * kGroup;
  std::vector<T> alone(n), mixed(n), other(n);
  for (size_t i = 0; i < values.size(); ++i) {
    const size_t lane = i % kGroup;
    for (int k = 0; k < kGroup; ++k) {
      alone[i * kGroup + k] = values[i];
      mixed[i * kGroup + k] = neighbours[(i + k) % std::size(neighbours)];
      other[i * kGroup + k] = static_cast<T>(unit(rng) * 5);
    }
    mixed[i * kGroup + lane] = values[i];
  }
  // The other operand of the binary functions is the same in both; only the neighbours differ.
  const auto r_alone = EveryFunction(table, alone, other);
  const auto r_mixed = EveryFunction(table, mixed, other);
  for (size_t f = 0; f < r_alone.size(); ++f) {
    for (size_t i = 0; i < values.size(); ++i) {
      const size_t at = i * kGroup + i % kGroup;
      const T a = r_alone[f].second[at], b = r_mixed[f].second[at];
      ASSERT_TRUE(SameBits(a, b)) << table.isa << " " << r_alone[f].first << " (" << sizeof(T) * 8
                                  << "-bit) of " << values[i] << ": " << a << " alone, " << b
                                  << " among others";
    }
  }
}

// Every function of two sets on the same inputs, bit for bit.
template <class T>
void ExpectSameBits(const Table& a, const Table& b) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> unit(-1, 1), exponent(-30, 30);
  std::vector<T> x, y;
  for (int i = 0; i < 20000; ++i) {
    x.push_back(static_cast<T>(unit(rng) * std::pow(10.0, exponent(rng))));
    y.push_back(static_cast<T>(unit(rng) * 100));
  }
  for (T e : {T(0), T(-0.0), std::numeric_limits<T>::infinity(),
              std::numeric_limits<T>::quiet_NaN(), std::numeric_limits<T>::denorm_min()}) {
    x.push_back(e);
    y.push_back(e);
  }
  const auto ra = EveryFunction(a, x, y);
  const auto rb = EveryFunction(b, x, y);
  for (size_t f = 0; f < ra.size(); ++f) {
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_TRUE(SameBits(ra[f].second[i], rb[f].second[i]))
          << ra[f].first << " (" << sizeof(T) * 8 << "-bit) of " << x[i] << ", " << y[i] << ": "
          << a.isa << " " << ra[f].second[i] << ", " << b.isa << " " << rb[f].second[i];
    }
  }
}

TEST(VectorMath, Avx512AndAvx2LoopsGiveTheSameBits) {
  const Table* avx512 = LoopsFor(Isa::kAvx512);
  const Table* avx2 = LoopsFor(Isa::kAvx2);
  if (avx512 == nullptr || avx2 == nullptr) GTEST_SKIP() << "this CPU lacks AVX-512 or AVX2";
  ExpectSameBits<float>(*avx512, *avx2);
  ExpectSameBits<double>(*avx512, *avx2);
}

TEST(VectorMath, AnElementsResultDoesNotDependOnItsNeighbours) {
  for (Isa isa : kWidestFirst) {
    if (const Table* t = LoopsFor(isa)) {
      ExpectLaneIndependent<float>(*t);
      ExpectLaneIndependent<double>(*t);
    }
  }
}

// Every stride-th float (257th: 16.7 million of every sign and magnitude).
std::vector<float> EveryNthFloat(uint64_t stride) {
  std::vector<float> x;
  x.reserve((uint64_t{1} << 32) / stride + 1);
  for (uint64_t bits = 0; bits <= UINT32_MAX; bits += stride) {
    const uint32_t b = static_cast<uint32_t>(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    x.push_back(v);
  }
  return x;
}

// The float32 loop of `f` on each set the CPU has, within `bound` ULP of `want` (`sse2_bound` on
// SSE2's loops) over every 257th float; NaN for NaN. `want` is computed in double, whose own
// error is a billionth of a float ULP.
void ExpectFloat32WithinUlp(Fn f, const char* name, double (*want)(double), double bound,
                            double sse2_bound) {
  const std::vector<float> x = EveryNthFloat(257);
  std::vector<float> r(x.size());
  for (Isa isa : kWidestFirst) {
    const Table* t = LoopsFor(isa);
    if (t == nullptr) continue;
    t->f32[static_cast<int>(f)](x.data(), r.data(), static_cast<int64_t>(x.size()));
    double worst = 0;
    float worst_x = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double w = want(x[i]);
      if (std::isnan(w)) {
        ASSERT_TRUE(std::isnan(r[i])) << t->isa << " " << name << " of " << x[i] << ": " << r[i];
        continue;
      }
      int exponent;
      std::frexp(w, &exponent);  // w in [2^(exponent-1), 2^exponent); 0 for w = 0
      const double ulp = w == 0 ? std::ldexp(1.0, -149)  // a float's smallest step
                                : std::ldexp(1.0, std::max(exponent - 24, -149));
      const double err = std::fabs(r[i] - w) / ulp;
      if (err > worst) worst = err, worst_x = x[i];
    }
    EXPECT_LE(worst, isa == Isa::kSse2 ? sse2_bound : bound)
        << t->isa << " " << name << ": " << worst << " ULP at x = " << worst_x;
  }
}

// Float32 sigmoid is computed in float with a corrected quotient where the set has FMA
// (vector_math_kernels.h): its stated bound is 1.5 ULP, the worst case near -4.85.
TEST(VectorMath, Float32SigmoidIsWithinOneAndAHalfUlpOverFloatsOfEveryMagnitude) {
  ExpectFloat32WithinUlp(
      Fn::kSigmoid, "sigmoid",
      [](double v) { return v >= 0 ? 1 / (1 + std::exp(-v)) : std::exp(v) / (1 + std::exp(v)); },
      1.5, 1.5);
}

// Float32 tanh comes from a table of polynomials where the set has FMA (tanh_f32_table.h):
// 0.986 ULP at worst among these floats (0.994 over all of them: tanh_every_float), so 1 is
// the bound; SLEEF's, on SSE2, reaches 1.00000002 (at x = 7.3e-8). The sign, zero, saturation
// (from 9.0109; the table clamps |x| at 9.5) and NaN are among the floats checked; infinities
// and subnormals below.
TEST(VectorMath, Float32TanhIsWithinOneUlpOverFloatsOfEveryMagnitude) {
  ExpectFloat32WithinUlp(
      Fn::kTanh, "tanh", [](double v) { return std::tanh(v); }, 1.0, 1.001);
}

TEST(VectorMath, Float32TanhKeepsSignedZerosInfinitiesAndNaN) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> x = {0.0f,   -0.0f,   inf,     -inf,   std::nanf(""), -std::nanf(""),
                                1e-40f, -1e-40f, 9.0109f, 9.011f, 100.0f,        -3e38f};
  for (Isa isa : kWidestFirst) {
    const Table* t = LoopsFor(isa);
    if (t == nullptr) continue;
    std::vector<float> r(x.size());
    t->f32[static_cast<int>(Fn::kTanh)](x.data(), r.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const float want = std::tanh(x[i]);
      if (std::isnan(want)) {
        EXPECT_TRUE(std::isnan(r[i])) << t->isa << " tanh of " << x[i] << ": " << r[i];
      } else if (x[i] == 0 || std::fabs(x[i]) < 1e-30f || std::fabs(x[i]) > 9.011f) {
        EXPECT_TRUE(SameBits(r[i], want)) << t->isa << " tanh of " << x[i] << ": " << r[i];
      } else {
        EXPECT_NEAR(r[i], want, 6e-8f) << t->isa << " tanh of " << x[i];
      }
    }
  }
}

}  // namespace
}  // namespace tensord::vmath
