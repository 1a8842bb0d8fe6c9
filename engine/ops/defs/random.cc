// Random ops over MRG31k3p states (backends/cpu/random_mrg.h): mrg_uniform (Theano's
// mrg_uniform), random_normal (standard normals by Box-Muller, in Theano's MRG layout) and
// random_binomial. The categorical ones (multinomial, choice, permutation) are in
// random_discrete.cc. All return (new state, sample); clients make the state a shared variable
// whose default_update is the new state, so a function call advances it.
#include <cmath>
#include <numbers>

#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/random_util.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using random::Random;
using random::SampleAttrs;
using runtime::Shape;
using runtime::Tensor;

// One draw in the sample's precision, converted as Theano's mrg_uniform converts it.
template <typename T>
T NextUniform(cpu::MrgStreams& streams) {
  if constexpr (std::is_same_v<T, float>) {
    return streams.NextFloat();
  } else {
    return streams.NextDouble();
  }
}

// ---- mrg_uniform(state, size; dtype, ndim): uniforms in the open interval (0, 1) ----

class UniformKernel final : public Kernel {
 public:
  explicit UniformKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, "mrg_uniform"));
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams,
                             random::StartDrawing(*in[0], *out[0], "mrg_uniform"));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return cpu::DispatchFloat(attrs_.dtype, [&](auto tag) -> absl::Status {
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

// ---- random_normal(state, size; dtype, ndim): standard normals ----

// Theano's MRG_RandomStreams.normal: draw an even count of uniforms u, split them in halves
// u1 | u2, and return (r cos t | r sin t)[:n] with r = sqrt(-2 log u1), t = 2 pi u2, computed in
// the sample's precision. The same state gives the same numbers as Theano's graph would.
class NormalKernel final : public Kernel {
 public:
  explicit NormalKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, "random_normal"));
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams,
                             random::StartDrawing(*in[0], *out[0], "random_normal"));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return cpu::DispatchFloat(attrs_.dtype, [&](auto tag) -> absl::Status {
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

// ---- random_binomial(state, size, n, p; dtype, ndim): successes in n trials ----

// Inversion (walking the pmf from 0, one uniform) while n * min(p, 1 - p) is small enough that
// (1 - q)^n stays far from underflow; else a sum of n Bernoulli draws (exact, O(n)).
constexpr double kInversionLimit = 30.0;

int64_t DrawBinomial(cpu::MrgStreams& streams, int64_t n, double p) {
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
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(auto trials, random::BroadcastParam<int64_t>(*in[2], shape, op, "n"));
    TENSORD_ASSIGN_OR_RETURN(auto probs, random::BroadcastParam<double>(*in[3], shape, op, "p"));
    double steps = 0;  // Bernoulli draws of the O(n) path
    for (size_t i = 0; i < trials.size(); ++i) {
      if (trials[i] < 0) return InvalidArgument(op, ": n must be >= 0, got ", trials[i]);
      if (!(probs[i] >= 0.0 && probs[i] <= 1.0)) {
        return InvalidArgument(op, ": p must be in [0, 1], got ", probs[i]);
      }
      const double n = static_cast<double>(trials[i]);
      if (n * std::min(probs[i], 1.0 - probs[i]) >= kInversionLimit) steps += n;
    }
    TENSORD_RETURN_IF_ERROR(random::CheckDrawSteps(steps, op, "this n"));
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams, random::StartDrawing(*in[0], *out[0], op));
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return cpu::DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
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

absl::StatusOr<std::vector<ir::Type>> InferSample(const ir::Apply& node, bool float_only) {
  TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, float_only));
  return random::StateAndSampleTypes(node, attrs.dtype, attrs.ndim);
}

absl::StatusOr<std::vector<ir::Type>> InferBinomial(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto types, InferSample(node, false));
  const ir::Type& n = node.inputs[2]->type;
  const ir::Type& p = node.inputs[3]->type;
  if (!IsInteger(n.dtype)) {
    return InvalidArgument("random_binomial: n must be an integer tensor, got ", ir::TypeString(n));
  }
  if (p.dtype == DType::kBool || p.dtype == DType::kFloat16) {
    return InvalidArgument("random_binomial: p must be a numeric tensor, got ", ir::TypeString(p));
  }
  if (n.ndim() > types[1].ndim() || p.ndim() > types[1].ndim()) {
    return InvalidArgument("random_binomial: n and p may not have more dims than size (",
                           types[1].ndim(), ")");
  }
  return types;
}

}  // namespace

void RegisterRandomDiscrete(Registry& r);  // random_discrete.cc

void RegisterRandom(Registry& r) {
  r.Add(Random(MakeOpDef(
      "mrg_uniform", 2, 2,
      "mrg_uniform(state, size; dtype, ndim) -> (new_state, u): MRG31k3p uniforms in (0, 1), "
      "Theano's rng_mrg layout (draw j from stream j % streams)",
      [](const ir::Apply& node) { return InferSample(node, true); },
      random::SampleKernel<UniformKernel>(true))));
  r.Add(Random(MakeOpDef(
      "random_normal", 2, 2,
      "random_normal(state, size; dtype, ndim) -> (new_state, z): standard normals by "
      "Box-Muller over MRG31k3p uniforms (Theano's MRG_RandomStreams.normal layout)",
      [](const ir::Apply& node) { return InferSample(node, true); },
      random::SampleKernel<NormalKernel>(true))));
  OpDef binomial = MakeOpDef(
      "random_binomial", 4, 4,
      "random_binomial(state, size, n, p; dtype, ndim) -> (new_state, k): successes in n trials "
      "of probability p, n and p broadcast to size (numpy.random.binomial)",
      InferBinomial, random::SampleKernel<BinomialKernel>(false));
  binomial.input_dtypes = [](const ir::Apply&) {
    return std::vector<std::optional<DType>>{std::nullopt, std::nullopt, DType::kInt64,
                                             DType::kFloat64};
  };
  r.Add(Random(std::move(binomial)));
  RegisterRandomDiscrete(r);
}

}  // namespace tensord::ops
