// Random ops over MRG31k3p states (backends/cpu/random_mrg.h): mrg_uniform (Theano's
// mrg_uniform), random_normal (standard normals by Box-Muller, in Theano's MRG layout) and
// random_binomial. The categorical ones (multinomial, choice, permutation) are in
// random_discrete.cc. All return (new state, sample); clients make the state a shared variable
// whose default_update is the new state, so a function call advances it.
#include "engine/ops/grads/random.h"

#include <cmath>
#include <numbers>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/random_util.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using random::Random;
using random::SampleAttrs;
using runtime::Shape;
using runtime::Tensor;

// ---- mrg_uniform(state, size; dtype, ndim): uniforms in the open interval (0, 1) ----

// ---- random_normal(state, size; dtype, ndim): standard normals ----

// ---- random_binomial(state, size, n, p; dtype, ndim): successes in n trials ----

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
      [](const ir::Apply& node) { return InferSample(node, true); }, NoGradientThroughSampling)));
  r.Add(Random(MakeOpDef(
      "random_normal", 2, 2,
      "random_normal(state, size; dtype, ndim) -> (new_state, z): standard normals by "
      "Box-Muller over MRG31k3p uniforms (Theano's MRG_RandomStreams.normal layout)",
      [](const ir::Apply& node) { return InferSample(node, true); }, NoGradientThroughSampling)));
  OpDef binomial = MakeOpDef(
      "random_binomial", 4, 4,
      "random_binomial(state, size, n, p; dtype, ndim) -> (new_state, k): successes in n trials "
      "of probability p, n and p broadcast to size (numpy.random.binomial)",
      InferBinomial, NoGradientThroughSampling);
  binomial.input_dtypes = [](const ir::Apply&) {
    return std::vector<std::optional<DType>>{std::nullopt, std::nullopt, DType::kInt64,
                                             DType::kFloat64};
  };
  r.Add(Random(std::move(binomial)));
  RegisterRandomDiscrete(r);
}

}  // namespace tensord::ops
