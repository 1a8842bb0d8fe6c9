// Categorical random ops over MRG31k3p states: random_multinomial (counts per row of pvals),
// random_choice (numpy.random.choice, plus Theano MRG's per-row form) and random_permutation.
// Each returns (new state, sample); see random.cc for the continuous ones.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/random_util.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using random::Random;
using random::SampleAttrs;
using runtime::Shape;
using runtime::Tensor;

// How far a row of probabilities may sum from 1: float32 rows carry rounding of ~1e-7 per term.
double SumTolerance(DType dtype) { return dtype == DType::kFloat32 ? 1e-4 : 1e-6; }

// Checks one row of probabilities (>= 0, summing to 1 within `tol`) and returns its sum.
absl::StatusOr<double> CheckProbabilities(const double* p, int64_t len, double tol, const char* op,
                                          const char* what) {
  double sum = 0;
  for (int64_t i = 0; i < len; ++i) {
    if (!(p[i] >= 0.0 && p[i] <= 1.0)) {
      return InvalidArgument(op, ": ", what, " must be probabilities in [0, 1], got ", p[i],
                             " at position ", i);
    }
    sum += p[i];
  }
  // Long rows accumulate more rounding (a float32 softmax over 10^4 classes is off by ~1e-4).
  const double allowed = tol * std::max(1.0, static_cast<double>(len) / 100.0);
  if (std::abs(sum - 1.0) > allowed) {
    return InvalidArgument(op, ": ", what, " must sum to 1 (within ", allowed, "), got a sum of ",
                           sum);
  }
  return sum;
}

// The category a uniform u in (0, 1) falls in: the first whose running sum passes u * total;
// rounding can leave u past the last sum, which then gives the last category of nonzero weight.
int64_t PickCategory(const double* p, int64_t len, double u, double total) {
  const double target = u * total;
  double cumulative = 0;
  int64_t last_nonzero = 0;
  for (int64_t m = 0; m < len; ++m) {
    if (p[m] <= 0) continue;
    last_nonzero = m;
    cumulative += p[m];
    if (cumulative > target) return m;
  }
  return last_nonzero;
}

// ---- random_multinomial(state, size, n, pvals; dtype, ndim) -> counts of shape size + (L,) ----

class MultinomialKernel final : public Kernel {
 public:
  MultinomialKernel(SampleAttrs attrs, double tol) : attrs_(attrs), tol_(tol) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_multinomial";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(auto trials, random::BroadcastParam<int64_t>(*in[2], shape, op, "n"));
    const int64_t len = in[3]->shape().back();
    Shape out_shape = shape;
    out_shape.push_back(len);
    TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements(out_shape, 8).status());
    TENSORD_ASSIGN_OR_RETURN(auto pvals,
                             random::BroadcastParam<double>(*in[3], out_shape, op, "pvals"));
    const int64_t rows = static_cast<int64_t>(trials.size());
    std::vector<double> totals(rows);
    int64_t max_trials = 0;
    for (int64_t r = 0; r < rows; ++r) {
      if (trials[r] < 0) return InvalidArgument(op, ": n must be >= 0, got ", trials[r]);
      max_trials = std::max(max_trials, trials[r]);
      if (len == 0) continue;
      TENSORD_ASSIGN_OR_RETURN(totals[r],
                               CheckProbabilities(&pvals[r * len], len, tol_, op, "pvals"));
    }
    double steps = 0;  // category walks
    for (int64_t t : trials) steps += static_cast<double>(t) * static_cast<double>(len);
    TENSORD_RETURN_IF_ERROR(random::CheckDrawSteps(steps, op, "this n"));
    if (len == 0 && max_trials > 0) {
      return InvalidArgument(op, ": pvals has no categories to draw ", max_trials, " trials from");
    }
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams, random::StartDrawing(*in[0], *out[0], op));
    std::vector<int64_t> counts(rows * len, 0);
    // Theano's MultinomialFromUniform order: trial c of row r takes uniform c * rows + r.
    for (int64_t c = 0; c < max_trials; ++c) {
      for (int64_t r = 0; r < rows; ++r) {
        if (c >= trials[r]) continue;
        const double u = streams.NextDouble();
        ++counts[r * len + PickCategory(&pvals[r * len], len, u, totals[r])];
      }
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, out_shape));
    return cpu::DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      std::transform(counts.begin(), counts.end(), out[1]->data<T>(),
                     [](int64_t v) { return static_cast<T>(v); });
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
  double tol_;
};

// ---- random_choice(state, size, a, p; replace, dtype, ndim) ----

// Draws `k` indices of [0, pop) into `dst`; `p` (length pop) may be null for equal weights.
absl::Status ChooseIndices(cpu::MrgStreams& streams, int64_t pop, const double* p, bool replace,
                           int64_t k, int64_t* dst) {
  const char* op = "random_choice";
  if (k == 0) return absl::OkStatus();
  if (pop <= 0)
    return InvalidArgument(op, ": a must be greater than 0 unless no samples are taken");
  if (!replace && k > pop) {
    return InvalidArgument(op, ": cannot take a larger sample (", k, ") than the population (", pop,
                           ") when replace=False");
  }
  if (p == nullptr && replace) {
    for (int64_t i = 0; i < k; ++i) dst[i] = streams.NextBelow(pop);
  } else if (p == nullptr) {
    // Partial Fisher-Yates: the first k slots of a shuffled [0, pop).
    TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements({pop}, 8).status());
    std::vector<int64_t> pool(pop);
    std::iota(pool.begin(), pool.end(), 0);
    for (int64_t i = 0; i < k; ++i) {
      std::swap(pool[i], pool[i + streams.NextBelow(pop - i)]);
      dst[i] = pool[i];
    }
  } else if (replace) {
    const double total = std::accumulate(p, p + pop, 0.0);
    for (int64_t i = 0; i < k; ++i) dst[i] = PickCategory(p, pop, streams.NextDouble(), total);
  } else {
    TENSORD_RETURN_IF_ERROR(
        random::CheckDrawSteps(static_cast<double>(k) * static_cast<double>(pop), op,
                               "weighted sampling without replacement"));
    std::vector<double> weights(p, p + pop);
    if (std::count_if(weights.begin(), weights.end(), [](double w) { return w > 0; }) < k) {
      return InvalidArgument(op, ": fewer non-zero entries in p than size (", k, ")");
    }
    for (int64_t i = 0; i < k; ++i) {
      // Summed afresh each draw so removing chosen weights accumulates no rounding drift.
      const double total = std::accumulate(weights.begin(), weights.end(), 0.0);
      dst[i] = PickCategory(weights.data(), pop, streams.NextDouble(), total);
      weights[dst[i]] = 0;
    }
  }
  return absl::OkStatus();
}

class ChoiceKernel final : public Kernel {
 public:
  ChoiceKernel(SampleAttrs attrs, bool replace, double tol)
      : attrs_(attrs), replace_(replace), tol_(tol) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_choice";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, op));
    const Tensor a = cpu::Contiguous(*in[2]);
    const Tensor p = cpu::Contiguous(*in[3]);
    int64_t pop = a.num_elements();
    if (a.ndim() == 0) {
      TENSORD_ASSIGN_OR_RETURN(pop, ReadInt(a, "a"));
    }
    const bool per_row = p.ndim() == 2;  // Theano MRG's choice: one draw set per row of p
    const bool weighted = per_row || p.num_elements() > 0;
    const int64_t rows = per_row ? p.shape()[0] : 1;
    if (weighted && p.shape().back() != pop) {
      return InvalidArgument(op, ": a and p must have the same size (", pop, " and ",
                             p.shape().back(), ")");
    }
    for (int64_t r = 0; weighted && pop > 0 && r < rows; ++r) {
      TENSORD_RETURN_IF_ERROR(
          CheckProbabilities(p.data<double>() + r * pop, pop, tol_, op, "p").status());
    }
    Shape out_shape = shape;
    if (per_row) out_shape.insert(out_shape.begin(), rows);
    TENSORD_ASSIGN_OR_RETURN(int64_t total, runtime::CheckedNumElements(out_shape, 8));
    const int64_t k = rows == 0 ? 0 : total / rows;
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams, random::StartDrawing(*in[0], *out[0], op));
    std::vector<int64_t> indices(total);
    for (int64_t r = 0; r < rows; ++r) {
      const double* pr = weighted ? p.data<double>() + r * pop : nullptr;
      TENSORD_RETURN_IF_ERROR(ChooseIndices(streams, pop, pr, replace_, k, indices.data() + r * k));
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, out_shape));
    return cpu::DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[1]->data<T>();
      for (int64_t i = 0; i < total; ++i) {
        dst[i] = a.ndim() == 0 ? static_cast<T>(indices[i]) : a.data<T>()[indices[i]];
      }
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
  bool replace_;
  double tol_;
};

// ---- random_permutation(state, size, n; dtype, ndim) -> shape size + (n,) ----

class PermutationKernel final : public Kernel {
 public:
  explicit PermutationKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_permutation";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, random::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ReadInt(*in[2], "random_permutation: n"));
    if (n < 0) return InvalidArgument(op, ": n must be >= 0, got ", n);
    shape.push_back(n);
    TENSORD_ASSIGN_OR_RETURN(int64_t total, runtime::CheckedNumElements(shape, 8));
    TENSORD_ASSIGN_OR_RETURN(cpu::MrgStreams streams, random::StartDrawing(*in[0], *out[0], op));
    std::vector<int64_t> perm(total);
    for (int64_t start = 0; start < total; start += n) {
      int64_t* row = perm.data() + start;
      std::iota(row, row + n, 0);
      for (int64_t i = n - 1; i > 0; --i) std::swap(row[i], row[streams.NextBelow(i + 1)]);
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return cpu::DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      std::transform(perm.begin(), perm.end(), out[1]->data<T>(),
                     [](int64_t v) { return static_cast<T>(v); });
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
};

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

void RegisterRandomDiscrete(Registry& r) {
  OpDef multinomial = MakeOpDef(
      "random_multinomial", 4, 4,
      "random_multinomial(state, size, n, pvals; dtype, ndim) -> (new_state, counts of shape "
      "size + (L,)): n draws per row of pvals (..., L) broadcast to size "
      "(numpy.random.multinomial)",
      InferMultinomial, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
        const double tol = SumTolerance(node.inputs[3]->type.dtype);
        return std::unique_ptr<Kernel>(new MultinomialKernel(attrs, tol));
      });
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
                InferChoice, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                  TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
                  TENSORD_ASSIGN_OR_RETURN(bool replace, ir::GetAttr<bool>(node, "replace"));
                  const double tol = SumTolerance(node.inputs[3]->type.dtype);
                  return std::unique_ptr<Kernel>(new ChoiceKernel(attrs, replace, tol));
                });
  // A population vector is read in the sample's dtype, a population size as int64.
  choice.input_dtypes = [](const ir::Apply& node) {
    const bool vector = node.inputs[2]->type.ndim() == 1;
    auto dtype = random::ReadSampleAttrs(node, false);
    const DType a = vector && dtype.ok() ? dtype->dtype : DType::kInt64;
    return std::vector<std::optional<DType>>{std::nullopt, std::nullopt, a, DType::kFloat64};
  };
  r.Add(Random(std::move(choice)));

  r.Add(Random(
      MakeOpDef("random_permutation", 3, 3,
                "random_permutation(state, size, n; dtype, ndim) -> (new_state, perms of shape "
                "size + (n,)): a permutation of range(n) per element of size "
                "(numpy.random.permutation)",
                InferPermutation, random::SampleKernel<PermutationKernel>(false))));
}

}  // namespace tensord::ops
