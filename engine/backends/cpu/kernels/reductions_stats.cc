// CPU kernels of the ops declared in engine/ops/defs/reductions_stats.cc.
#include <algorithm>
#include <cmath>

#include "engine/backends/cpu/kernels/fold_row.h"
#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// Elements per chunk of a full variance's second pass (about 0.1 ms of work each).
constexpr int64_t kDeviationChunk = int64_t{1} << 16;

class MomentKernel final : public Kernel {
 public:
  MomentKernel(Moment kind, MomentAttrs attrs) : kind_(kind), attrs_(std::move(attrs)) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    const ReduceLayout l = MakeReduceLayout(x.shape(), attrs_.axes);
    const DType out_dtype = MomentDType(x.dtype());
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(out_dtype, l.out_shape));
    const int64_t n_out = out[0]->num_elements();
    // Per-thread scratch: kernels are shared by concurrent runs, and steady-state runs should
    // not allocate.
    thread_local std::vector<double> mean_scratch, sq_scratch, dev_scratch, part_scratch;
    // Named by reference: the lambdas below also run on pool threads, where the thread_local
    // names would mean those threads' own (empty) vectors.
    std::vector<double>&mean = mean_scratch, &sq = sq_scratch, &dev = dev_scratch,
    &parts = part_scratch;
    mean.assign(n_out, 0.0);
    const double n = static_cast<double>(l.reduced_count);
    TENSORD_RETURN_IF_ERROR(DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      FoldOver<SumFold, double, T>(x, l, mean.data());
      for (double& m : mean) m /= n;  // 0 / 0 = NaN for empty reductions, as NumPy
      if (kind_ == Moment::kMean) return absl::OkStatus();
      sq.assign(n_out, 0.0);
      dev.assign(n_out, 0.0);
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      const int64_t inner = l.out_strides.empty() ? 0 : l.out_strides.back();
      // The second pass walks x as FoldOver's first did.
      if (n_out == 1 && x.is_contiguous()) {
        // Chunks of a fixed size over the intra-op threads, their sums added in chunk order:
        // the same bits whatever the thread count.
        const int64_t total = x.num_elements();
        const int64_t chunks = (total + kDeviationChunk - 1) / kDeviationChunk;
        parts.assign(2 * chunks, 0.0);  // squares, then deviations, per chunk
        runtime::ParallelFor(chunks, 1, [&](int64_t first, int64_t last) {
          for (int64_t c = first; c < last; ++c) {
            const int64_t lo = c * kDeviationChunk;
            AddDeviations(src + lo, std::min(kDeviationChunk, total - lo), mean[0], &parts[c],
                          &parts[chunks + c]);
          }
        });
        for (int64_t c = 0; c < chunks; ++c) sq[0] += parts[c], dev[0] += parts[chunks + c];
        return absl::OkStatus();
      }
      // Deviations of `len` values s[i * step] from means, squares, sums at stride `inner`.
      auto deviations = [&](int64_t len, int64_t to, const T* s, int64_t step, int64_t inner) {
        for (int64_t i = 0; i < len; ++i) {
          const int64_t k = to + i * inner;
          const double d = static_cast<double>(s[i * step]) - mean[k];
          sq[k] += d * d;
          dev[k] += d;
        }
      };
      if (FoldLeadingAxes(x, l,
                          [&](int64_t len, int64_t to, int64_t from, int rows, int64_t stride) {
                            for (int k = 0; k < rows; ++k)
                              deviations(len, to, src + from + k * stride, 1, 1);
                          })) {
        return absl::OkStatus();
      }
      ForEachReducedRow(x, l, [&](int64_t len, int64_t to, int64_t from) {
        const T* s = src + from;
        if (inner == 0 && step == 1) {
          AddDeviations(s, len, mean[to], &sq[to], &dev[to]);
          return;
        }
        deviations(len, to, s, step, inner);
      });
      return absl::OkStatus();
    }));
    const double divisor = attrs_.Divisor(l.reduced_count);
    return DispatchFloat(out_dtype, [&](auto tag) -> absl::Status {
      using R = typename decltype(tag)::type;
      R* dst = out[0]->data<R>();
      for (int64_t i = 0; i < n_out; ++i) {
        if (kind_ == Moment::kMean) {
          dst[i] = static_cast<R>(mean[i]);
          continue;
        }
        // Theano's corrected two-pass: subtracting (sum of deviations)^2 / n cancels the
        // rounding error of the mean itself.
        double num = sq[i];
        if (attrs_.corrected && n > 0) num -= dev[i] * dev[i] / n;
        const double var = num / divisor;
        dst[i] = static_cast<R>(kind_ == Moment::kStd ? std::sqrt(var) : var);
      }
      return absl::OkStatus();
    });
  }

 private:
  Moment kind_;
  MomentAttrs attrs_;
};

}  // namespace

void RegisterReductionStatsKernels(backends::KernelTable& k) {
  auto moment = [&](const char* op, Moment kind) {
    k.Add(op, [kind](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      TENSORD_ASSIGN_OR_RETURN(MomentAttrs attrs, GetMomentAttrs(node));
      return std::unique_ptr<Kernel>(new MomentKernel(kind, std::move(attrs)));
    });
  };
  moment("mean", Moment::kMean);
  moment("var", Moment::kVar);
  moment("std", Moment::kStd);
}

}  // namespace tensord::cpu
