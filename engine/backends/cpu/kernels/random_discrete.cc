// CPU kernels of the ops declared in engine/ops/defs/random_discrete.cc.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/random_sampling.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

using random::SampleAttrs;

using mrg_step::tensord_choose;
using mrg_step::tensord_pick_category;
using sampling::CheckProbabilities;

class MultinomialKernel final : public Kernel {
 public:
  MultinomialKernel(SampleAttrs attrs, double tol) : attrs_(attrs), tol_(tol) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_multinomial";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(auto trials,
                             sampling::BroadcastParam<int64_t>(*in[2], shape, op, "n"));
    const int64_t len = in[3]->shape().back();
    Shape out_shape = shape;
    out_shape.push_back(len);
    TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements(out_shape, 8).status());
    TENSORD_ASSIGN_OR_RETURN(auto pvals,
                             sampling::BroadcastParam<double>(*in[3], out_shape, op, "pvals"));
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
    TENSORD_RETURN_IF_ERROR(sampling::CheckDrawSteps(steps, op, "this n"));
    if (len == 0 && max_trials > 0) {
      return InvalidArgument(op, ": pvals has no categories to draw ", max_trials, " trials from");
    }
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams, sampling::StartDrawing(*in[0], *out[0], op));
    std::vector<int64_t> counts(rows * len, 0);
    // Theano's MultinomialFromUniform order: trial c of row r takes uniform c * rows + r.
    for (int64_t c = 0; c < max_trials; ++c) {
      for (int64_t r = 0; r < rows; ++r) {
        if (c >= trials[r]) continue;
        const double u = streams.NextDouble();
        ++counts[r * len + tensord_pick_category(&pvals[r * len], len, u, totals[r])];
      }
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, out_shape));
    return DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
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

// Draws `k` indices of [0, pop) into `dst`; `p` (length pop) may be null for equal weights.
absl::Status ChooseIndices(MrgStreams& streams, int64_t pop, const double* p, bool replace,
                           int64_t k, long long* dst) {
  const char* op = "random_choice";
  if (k == 0) return absl::OkStatus();
  if (pop <= 0)
    return InvalidArgument(op, ": a must be greater than 0 unless no samples are taken");
  if (!replace && k > pop) {
    return InvalidArgument(op, ": cannot take a larger sample (", k, ") than the population (", pop,
                           ") when replace=False");
  }
  if (p == nullptr && !replace) {
    TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements({pop}, 8).status());
  } else if (p != nullptr && !replace) {
    TENSORD_RETURN_IF_ERROR(
        sampling::CheckDrawSteps(static_cast<double>(k) * static_cast<double>(pop), op,
                                 "weighted sampling without replacement"));
    if (std::count_if(p, p + pop, [](double w) { return w > 0; }) < k) {
      return InvalidArgument(op, ": fewer non-zero entries in p than size (", k, ")");
    }
  }
  std::vector<long long> pool(p == nullptr && !replace ? pop : 0);
  std::vector<double> weights(p != nullptr && !replace ? pop : 0);
  tensord_choose(streams, pop, p, replace, k, dst, pool.data(), weights.data());
  return absl::OkStatus();
}

class ChoiceKernel final : public Kernel {
 public:
  ChoiceKernel(SampleAttrs attrs, bool replace, double tol)
      : attrs_(attrs), replace_(replace), tol_(tol) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_choice";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, op));
    const Tensor a = Contiguous(*in[2]);
    const Tensor p = Contiguous(*in[3]);
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
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams, sampling::StartDrawing(*in[0], *out[0], op));
    std::vector<long long> indices(total);
    for (int64_t r = 0; r < rows; ++r) {
      const double* pr = weighted ? p.data<double>() + r * pop : nullptr;
      TENSORD_RETURN_IF_ERROR(ChooseIndices(streams, pop, pr, replace_, k, indices.data() + r * k));
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, out_shape));
    return DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
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

class PermutationKernel final : public Kernel {
 public:
  explicit PermutationKernel(SampleAttrs attrs) : attrs_(attrs) {}
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_permutation";
    TENSORD_ASSIGN_OR_RETURN(Shape shape, sampling::ReadSize(*in[1], attrs_.ndim, op));
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ReadInt(*in[2], "random_permutation: n"));
    if (n < 0) return InvalidArgument(op, ": n must be >= 0, got ", n);
    shape.push_back(n);
    TENSORD_ASSIGN_OR_RETURN(int64_t total, runtime::CheckedNumElements(shape, 8));
    TENSORD_ASSIGN_OR_RETURN(MrgStreams streams, sampling::StartDrawing(*in[0], *out[0], op));
    std::vector<int64_t> perm(total);
    for (int64_t start = 0; start < total; start += n) {
      mrg_step::tensord_permute(streams, n, perm.data() + start);
    }
    TENSORD_RETURN_IF_ERROR(out[1]->Reshape(attrs_.dtype, shape));
    return DispatchAll(attrs_.dtype, [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      std::transform(perm.begin(), perm.end(), out[1]->data<T>(),
                     [](int64_t v) { return static_cast<T>(v); });
      return absl::OkStatus();
    });
  }

 private:
  SampleAttrs attrs_;
};

}  // namespace

void RegisterRandomDiscreteKernels(backends::KernelTable& k) {
  k.Add("random_multinomial", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
    const double tol = random::SumTolerance(node.inputs[3]->type.dtype);
    return std::unique_ptr<Kernel>(new MultinomialKernel(attrs, tol));
  });
  k.Add("random_choice", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(SampleAttrs attrs, random::ReadSampleAttrs(node, false));
    TENSORD_ASSIGN_OR_RETURN(bool replace, ir::GetAttr<bool>(node, "replace"));
    const double tol = random::SumTolerance(node.inputs[3]->type.dtype);
    return std::unique_ptr<Kernel>(new ChoiceKernel(attrs, replace, tol));
  });
  k.Add("random_permutation", sampling::SampleKernel<PermutationKernel>(false));
}

}  // namespace tensord::cpu
