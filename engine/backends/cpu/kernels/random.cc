// CPU kernels of the ops declared in engine/ops/defs/random.cc.
#include <cmath>
#include <numbers>

#include "engine/backends/cpu/kernels/random_sampling.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

using random::SampleAttrs;

// One draw in the sample's precision, converted as Theano's mrg_uniform converts it.
template <typename T>
T NextUniform(MrgStreams& streams) {
  if constexpr (std::is_same_v<T, float>) {
    return streams.NextFloat();
  } else {
    return streams.NextDouble();
  }
}

class UniformKernel final : public Kernel {
 public:
  explicit UniformKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, "mrg_uniform"));
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams,
                             sampling::StartDrawing(*in[0], *out[0], "mrg_uniform"));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return DispatchFloat(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[1]->data<T>();
      const int64_t n = out[1]->num_elements();
      for (int64_t i = 0; i < n; ++i) dst[i] = NextUniform<T>(streams);
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
};

// Theano's MRG_RandomStreams.normal: draw an even count of uniforms u, split them in halves
// u1 | u2, and return (r cos t | r sin t)[:n] with r = sqrt(-2 log u1), t = 2 pi u2, computed in
// the sample's precision. The same state gives the same numbers as Theano's graph would.
class NormalKernel final : public Kernel {
 public:
  explicit NormalKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, "random_normal"));
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams,
                             sampling::StartDrawing(*in[0], *out[0], "random_normal"));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return DispatchFloat(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const int64_t n = out[1]->num_elements();
      const int64_t half = (n + n % 2) / 2;
      std::vector<T> u(2 * half);
      for (T& v : u) v = NextUniform<T>(streams);
      T* dst = out[1]->data<T>();
      const T two_pi = static_cast<T>(2.0 * std::numbers::pi);
      for (int64_t i = 0; i < half; ++i) {
        const T r = std::sqrt(T(-2) * std::log(u[i]));
        const T theta = two_pi * u[half + i];
        dst[i] = r * std::cos(theta);
        if (half + i < n) dst[half + i] = r * std::sin(theta);
      }
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
};

// Inversion (walking the pmf from 0, one uniform) while n * min(p, 1 - p) is small enough that
// (1 - q)^n stays far from underflow; else a sum of n Bernoulli draws (exact, O(n)).
constexpr double kInversionLimit = 30.0;

int64_t DrawBinomial(MrgStreams& streams, int64_t n, double p) {
  if (n == 0 || p == 0.0) return 0;
  if (p == 1.0) return n;
  const double q = std::min(p, 1.0 - p);
  int64_t k = 0;
  if (static_cast<double>(n) * q < kInversionLimit) {
    const double u = streams.NextDouble();
    double pmf = std::pow(1.0 - q, static_cast<double>(n));
    double cdf = pmf;
    const double ratio = q / (1.0 - q);
    while (u > cdf && k < n) {
      pmf *= ratio * static_cast<double>(n - k) / static_cast<double>(k + 1);
      ++k;
      cdf += pmf;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) k += streams.NextDouble() < q ? 1 : 0;
  }
  return p > 0.5 ? n - k : k;
}

class BinomialKernel final : public Kernel {
 public:
  explicit BinomialKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_binomial";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(auto trials,
                             sampling::BroadcastParam<int64_t>(*in[2], shape, op, "n"));
    TENSORD_ASSIGN_OR_RETURN(auto probs, sampling::BroadcastParam<double>(*in[3], shape, op, "p"));
    double steps = 0;  // Bernoulli draws of the O(n) path
    for (size_t i = 0; i < trials.size(); ++i) {
      if (trials[i] < 0) return InvalidArgument(op, ": n must be >= 0, got ", trials[i]);
      if (!(probs[i] >= 0.0 && probs[i] <= 1.0)) {
        return InvalidArgument(op, ": p must be in [0, 1], got ", probs[i]);
      }
      const double n = static_cast<double>(trials[i]);
      if (n * std::min(probs[i], 1.0 - probs[i]) >= kInversionLimit) steps += n;
    }
    TENSORD_RETURN_IF_ERROR(sampling::CheckDrawSteps(steps, op, "this n"));
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams, sampling::StartDrawing(*in[0], *out[0], op));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[1]->data<T>();
      for (size_t i = 0; i < trials.size(); ++i) {
        dst[i] = static_cast<T>(DrawBinomial(streams, trials[i], probs[i]));
      }
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
};

}  // namespace

void RegisterRandomKernels(backends::KernelTable& k) {
  k.Add("mrg_uniform", sampling::SampleKernel<UniformKernel>(true));
  k.Add("random_normal", sampling::SampleKernel<NormalKernel>(true));
  k.Add("random_binomial", sampling::SampleKernel<BinomialKernel>(false));
}

}  // namespace tensord::cpu
