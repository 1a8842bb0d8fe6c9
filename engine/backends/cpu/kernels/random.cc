// CPU kernels of the ops declared in engine/ops/defs/random.cc.
#include <cmath>
#include <numbers>

#include "engine/backends/cpu/binomial_step.h"
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

TENSORD_BINOMIAL_STEP(inline)

int64_t DrawBinomial(MrgStreams& streams, int64_t n, double p) {
  auto next = [&streams] { return streams.NextDouble(); };
  return tensord_binomial_draw(next, n, p);
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
      TENSORD_RETURN_IF_ERROR(sampling::CheckBinomialParams(trials[i], probs[i], op));
      const int64_t uniforms = tensord_binomial_uniforms(trials[i], probs[i]);
      if (uniforms > 1) steps += static_cast<double>(uniforms);
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
