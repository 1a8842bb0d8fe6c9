// Categorical random ops over MRG31k3p states: random_multinomial (counts per row of pvals),
// random_choice (numpy.random.choice, plus Theano MRG's per-row form) and random_permutation.
// Each returns (new state, sample); see random.cc for the continuous ones.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/random_util.h"
#include "engine/ops/grads/random.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using random::Random;
using random::SampleAttrs;
using runtime::Shape;
using runtime::Tensor;

// ---- random_multinomial(state, size, n, pvals; dtype, ndim) -> counts of shape size + (L,) ----

// ---- random_choice(state, size, a, p; replace, dtype, ndim) ----

// ---- random_permutation(state, size, n; dtype, ndim) -> shape size + (n,) ----

absl::Status RequireFloatParam(const ir::Apply& node, int index, const char* what) {
  const ir::Type& t = node.inputs[index]->type;
  if (!IsFloat(t.dtype) || t.dtype == DType::kFloat16) {
    return InvalidArgument(node.op, ": ", what, " must be a float32/float64 tensor, got ",
                           ir::TypeString(t));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ir::Type>> InferMultinomial(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
  const ir::Type& n = node.inputs[2]->type;
  const ir::Type& pvals = node.inputs[3]->type;
  if (!IsInteger(n.dtype) || n.ndim() > attrs.ndim) {
    return InvalidArgument("random_multinomial: n must be an integer tensor of at most ",
                           attrs.ndim, " dims (the length of size), got ", ir::TypeString(n));
  }
  TENSORD_RETURN_IF_ERROR(RequireFloatParam(node, 3, "pvals"));
  if (pvals.ndim() < 1 || pvals.ndim() > attrs.ndim + 1) {
    return InvalidArgument("random_multinomial: pvals must have between 1 and ", attrs.ndim + 1,
                           " dims (the length of size + 1), got ", ir::TypeString(pvals));
  }
  return random::StateAndSampleTypes(node, attrs.dtype, attrs.ndim + 1);
}

absl::StatusOr<std::vector<ir::Type>> InferChoice(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
  TENSORD_RETURN_IF_ERROR(ir::GetAttr<bool>(node, "replace").status());
  const ir::Type& a = node.inputs[2]->type;
  if (a.ndim() > 1 || (a.ndim() == 0 && !IsInteger(a.dtype)) || a.dtype == DType::kFloat16) {
    return InvalidArgument("random_choice: a must be an integer scalar or a vector, got ",
                           ir::TypeString(a));
  }
  TENSORD_RETURN_IF_ERROR(RequireFloatParam(node, 3, "p"));
  const int p_ndim = node.inputs[3]->type.ndim();
  if (p_ndim != 1 && p_ndim != 2) {
    return InvalidArgument(
        "random_choice: p must be a vector (empty for equal weights) or a "
        "matrix of one distribution per row, got ",
        ir::TypeString(node.inputs[3]->type));
  }
  return random::StateAndSampleTypes(node, attrs.dtype, attrs.ndim + (p_ndim == 2 ? 1 : 0));
}

absl::StatusOr<std::vector<ir::Type>> InferPermutation(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[2], 0, "random_permutation: n"));
  return random::StateAndSampleTypes(node, attrs.dtype, attrs.ndim + 1);
}

}  // namespace

namespace random {

// How far a row of probabilities may sum from 1: float32 rows carry rounding of ~1e-7 per term.
double SumTolerance(DType dtype) { return dtype == DType::kFloat32 ? 1e-4 : 1e-6; }

}  // namespace random

void RegisterRandomDiscrete(Registry& r) {
  OpDef multinomial = MakeOpDef(
      "random_multinomial", 4, 4,
      "random_multinomial(state, size, n, pvals; dtype, ndim) -> (new_state, counts of shape "
      "size + (L,)): n draws per row of pvals (..., L) broadcast to size "
      "(numpy.random.multinomial)",
      InferMultinomial, NoGradientThroughSampling);
  multinomial.input_dtypes = [](const ir::Apply&) {
    return std::vector<std::optional<DType>>{std::nullopt, std::nullopt, DType::kInt64,
                                             DType::kFloat64};
  };
  r.Add(Random(std::move(multinomial)));

  OpDef choice =
      MakeOpDef("random_choice", 4, 4,
                "random_choice(state, size, a, p; replace, dtype, ndim) -> (new_state, values): "
                "numpy.random.choice(a, size, replace, p or None); p empty for equal weights, or a "
                "matrix for one draw set per row (shape (rows,) + size, Theano MRG's choice)",
                InferChoice, NoGradientThroughSampling);
  // A population vector is read in the sample's dtype, a population size as int64.
  choice.input_dtypes = [](const ir::Apply& node) {
    const bool vector = node.inputs[2]->type.ndim() == 1;
    auto dtype = random::ReadSampleAttrs(node, false);
    const DType a = vector && dtype.ok() ? dtype->dtype : DType::kInt64;
    return std::vector<std::optional<DType>>{std::nullopt, std::nullopt, a, DType::kFloat64};
  };
  choice.attrs = {"replace"};
  r.Add(Random(std::move(choice)));

  r.Add(Random(
      MakeOpDef("random_permutation", 3, 3,
                "random_permutation(state, size, n; dtype, ndim) -> (new_state, perms of shape "
                "size + (n,)): a permutation of range(n) per element of size "
                "(numpy.random.permutation)",
                InferPermutation, NoGradientThroughSampling)));
}

}  // namespace tensord::ops
