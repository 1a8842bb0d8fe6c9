// The float32 tanh loops against a double reference over every one of the 2^32 floats, on each
// instruction set this CPU has (about a minute per set): the check to run after regenerating
// engine/ops/scalar/tanh_f32_table.h, whose unit test samples every 257th float. Prints the
// worst error and where; exits 1 past 1 ULP or for a NaN answered with a number. Not a test
// (ctest does not run it):
//
//   cmake --build build/NAME --target tensord_tanh_every_float
//   build/NAME/engine/tensord_tanh_every_float
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/ops/scalar/vector_math.h"

namespace tensord::vmath {
namespace {

int Main() {
  bool ok = true;
  std::vector<float> x(size_t{1} << 24), r(x.size());
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kSse2}) {
    const Table* t = LoopsFor(isa);
    if (t == nullptr) continue;
    double worst = 0;
    float worst_x = 0;
    uint64_t wrong_nans = 0;
    for (uint64_t base = 0; base < (uint64_t{1} << 32); base += x.size()) {
      for (size_t i = 0; i < x.size(); ++i) {
        const uint32_t bits = static_cast<uint32_t>(base + i);
        std::memcpy(&x[i], &bits, sizeof bits);
      }
      t->f32[static_cast<int>(Fn::kTanh)](x.data(), r.data(), static_cast<int64_t>(x.size()));
      for (size_t i = 0; i < x.size(); ++i) {
        const double want = std::tanh(static_cast<double>(x[i]));
        if (std::isnan(want)) {
          wrong_nans += !std::isnan(r[i]);
          continue;
        }
        int exponent;
        std::frexp(want, &exponent);  // want in [2^(exponent-1), 2^exponent); 0 for want = 0
        const double ulp =
            want == 0 ? std::ldexp(1.0, -149) : std::ldexp(1.0, std::max(exponent - 24, -149));
        const double err = std::fabs(r[i] - want) / ulp;
        if (err > worst) worst = err, worst_x = x[i];
      }
    }
    std::printf(
        "%s float32 tanh over every float: at most %.4f ULP (x = %.9g); %llu NaN inputs "
        "answered with a number\n",
        t->isa, worst, worst_x, static_cast<unsigned long long>(wrong_nans));
    // SLEEF's (SSE2) is 1.00000002 at worst; the table's 0.994
    if (worst > (isa == Isa::kSse2 ? 1.001 : 1.0) || wrong_nans > 0) ok = false;
  }
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace tensord::vmath

int main() { return tensord::vmath::Main(); }
