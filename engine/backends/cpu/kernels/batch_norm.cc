// CPU kernels of the ops declared in engine/ops/defs/batch_norm.cc. Each pass walks the input's
// rows once, its outermost dimension split over the intra-op threads: statistics passes sum
// into per-range partial rows (combined in range order, so a given split always gives the same
// bits), elementwise passes write disjoint slices.
#include "engine/ops/defs/batch_norm.h"

#include <cmath>
#include <limits>

#include "engine/backends/cpu/kernels/fold_row.h"
#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// How a pass splits x's outermost dimension over the intra-op threads: at most 4 ranges per
// thread, each of at least 64K elements where there are that many.
struct OuterSplit {
  explicit OuterSplit(const Shape& shape) {
    if (shape.empty() || shape[0] == 0) return;
    const int64_t rows = shape[0], parts = 4 * runtime::IntraOpThreads();
    const int64_t slice = std::max<int64_t>(1, runtime::NumElements(shape) / rows);
    grain = std::max(std::max<int64_t>(1, (int64_t{64} << 10) / slice), (rows + parts - 1) / parts);
    ranges = (rows + grain - 1) / grain;
  }
  int64_t grain = 1, ranges = 1;
};

// Calls fn(range index, part shape, offset of each operand) for each range of `split`;
// `strides` are the operands' strides over x's shape (x's own, an output's ...).
template <typename Fn>
void ForEachOuterRange(const Shape& shape, const OuterSplit& split,
                       const std::vector<Strides>& strides, Fn&& fn) {
  if (shape.empty()) {
    fn(0, shape, std::vector<int64_t>(strides.size(), 0));
    return;
  }
  runtime::ParallelFor(shape[0], split.grain, [&](int64_t begin, int64_t end) {
    Shape part = shape;
    part[0] = end - begin;
    std::vector<int64_t> offsets;
    for (const Strides& s : strides) offsets.push_back(begin * s[0]);
    fn(begin / split.grain, part, offsets);  // ranges start at multiples of the grain
  });
}

// Per-thread rows of per-statistic doubles, zeroed: kernels are shared by concurrent runs, and
// a warm run allocates none. Slot 0 holds a run's statistics and coefficients, slot 1 the
// partial sums of one pass.
double* ScratchRows(int slot, int64_t rows, int64_t width) {
  thread_local std::vector<double> scratch[2];
  scratch[slot].assign(rows * width, 0.0);
  return scratch[slot].data();
}

// Partial sums of `width` statistics: a row per range, combined in range order (so a split
// always gives the same bits); one shared row when x's outermost dimension is kept, since the
// ranges then sum into disjoint statistics.
class Partials {
 public:
  Partials(const OuterSplit& split, bool outer_kept, int64_t width)
      : shared_(outer_kept),
        rows_(outer_kept ? 1 : split.ranges),
        width_(width),
        sums_(ScratchRows(1, rows_, width)) {}
  double* Range(int64_t r) { return sums_ + (shared_ ? 0 : r * width_); }
  // Adds the rows, in order, into `total` (width values).
  void AddTo(double* total) const {
    for (int64_t r = 0; r < rows_; ++r)
      for (int64_t k = 0; k < width_; ++k) total[k] += sums_[r * width_ + k];
  }

 private:
  bool shared_;
  int64_t rows_, width_;
  double* sums_;
};

// The K values of a parameter broadcast to the statistics' shape, in its C order, into `out`.
template <typename T>
absl::Status ParamValues(const Tensor& p, const Shape& stats, const char* op, const char* what,
                         double* out) {
  TENSORD_RETURN_IF_ERROR(CheckBatchNormParam(p.shape(), stats, op, what));
  const T* base = p.data<T>();
  const Strides strides = BroadcastStrides(p, stats);
  const int64_t step = strides.empty() ? 0 : strides.back();
  ForEachRow(stats, {strides}, [&](int64_t n, int64_t, const int64_t* o) {
    for (int64_t i = 0; i < n; ++i) *out++ = static_cast<double>(base[o[0] + i * step]);
  });
  return absl::OkStatus();
}

class BatchNormKernel final : public Kernel {
 public:
  explicit BatchNormKernel(const ir::Apply& node)
      : train_(node.op == "batch_norm_train"),
        axes_(ReducedAxes(node)),
        epsilon_(ir::GetAttr<double>(node, "epsilon").value_or(0)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(axes_.status());
    const Tensor& x = *in[0];
    const ReduceLayout l = MakeReduceLayout(x.shape(), *axes_);
    const Shape stats = BatchNormStatsShape(x.shape(), *axes_);
    for (int k = 0; k < 3; ++k)
      TENSORD_RETURN_IF_ERROR(out[k]->Reshape(x.dtype(), k == 0 ? x.shape() : stats));
    return DispatchFloat(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      if (x.num_elements() == 0) {  // statistics of nothing are NaN (NumPy's mean); gradients 0
        const T fill = train_ ? std::numeric_limits<T>::quiet_NaN() : T(0);
        for (int k = 1; k < 3; ++k) std::fill_n(out[k]->data<T>(), out[k]->num_elements(), fill);
        return absl::OkStatus();
      }
      return train_ ? Train<T>(in, out, l, stats) : Grad<T>(in, out, l, stats);
    });
  }

 private:
  // Adds into total[k] what row_sum(acc, n, k, offset) sums over each row of x (statistic k
  // at its start, `inner` apart along it).
  template <typename RowSum>
  static void SumPerStat(const Tensor& x, const ReduceLayout& l, int64_t width, RowSum&& row_sum,
                         double* total) {
    const OuterSplit split(x.shape());
    Partials partial(split, l.out_strides[0] != 0, width);
    ForEachOuterRange(x.shape(), split, {l.out_strides, x.strides()},
                      [&](int64_t r, const Shape& part, const std::vector<int64_t>& base) {
                        double* acc = partial.Range(r);
                        ForEachRow(part, {l.out_strides, x.strides()},
                                   [&](int64_t n, int64_t, const int64_t* o) {
                                     row_sum(acc, n, base[0] + o[0], base[1] + o[1]);
                                   });
                      });
    partial.AddTo(total);
  }

  template <typename T>
  absl::Status Train(std::span<const Tensor* const> in, std::span<Tensor* const> out,
                     const ReduceLayout& l, const Shape& stats) const {
    const Tensor& x = *in[0];
    const T* src = x.data<T>();
    const int64_t k_count = runtime::NumElements(stats), step = x.strides().back();
    const int64_t inner = l.out_strides.back();
    double* rows = ScratchRows(0, 6, k_count);
    double *gamma = rows, *beta = rows + k_count, *mean = rows + 2 * k_count,
           *sq = rows + 3 * k_count, *scale = rows + 4 * k_count, *shift = rows + 5 * k_count;
    TENSORD_RETURN_IF_ERROR(ParamValues<T>(*in[1], stats, "batch_norm_train", "gamma", gamma));
    TENSORD_RETURN_IF_ERROR(ParamValues<T>(*in[2], stats, "batch_norm_train", "beta", beta));
    const double m = static_cast<double>(l.reduced_count);
    SumPerStat(
        x, l, k_count,
        [&](double* acc, int64_t n, int64_t k, int64_t at) {
          if (inner == 0 && step == 1) {
            acc[k] += FoldRow<SumFold, double>(src + at, n);
          } else {
            for (int64_t i = 0; i < n; ++i)
              acc[k + i * inner] += static_cast<double>(src[at + i * step]);
          }
        },
        mean);
    for (int64_t k = 0; k < k_count; ++k) mean[k] /= m;
    SumPerStat(
        x, l, k_count,
        [&](double* acc, int64_t n, int64_t k, int64_t at) {
          if (inner == 0 && step == 1) {
            double deviations = 0;  // not needed: the mean is exact enough in double
            AddDeviations(src + at, n, mean[k], &acc[k], &deviations);
            return;
          }
          for (int64_t i = 0; i < n; ++i) {
            const double d = static_cast<double>(src[at + i * step]) - mean[k + i * inner];
            acc[k + i * inner] += d * d;
          }
        },
        sq);
    T* mean_out = out[1]->data<T>();
    T* invstd_out = out[2]->data<T>();
    for (int64_t k = 0; k < k_count; ++k) {
      const double invstd = 1.0 / std::sqrt(sq[k] / m + epsilon_);
      mean_out[k] = static_cast<T>(mean[k]);
      invstd_out[k] = static_cast<T>(invstd);
      scale[k] = gamma[k] * invstd;
      shift[k] = beta[k] - mean[k] * scale[k];
    }
    T* dst = out[0]->data<T>();
    const Strides dst_strides = runtime::ContiguousStrides(x.shape());
    ForEachOuterRange(x.shape(), OuterSplit(x.shape()), {l.out_strides, x.strides(), dst_strides},
                      [&](int64_t, const Shape& part, const std::vector<int64_t>& base) {
                        ForEachRow(part, {l.out_strides, x.strides(), dst_strides},
                                   [&](int64_t n, int64_t, const int64_t* o) {
                                     const int64_t k = base[0] + o[0];
                                     const T* s = src + base[1] + o[1];
                                     T* d = dst + base[2] + o[2];
                                     // One statistic per row: the same double arithmetic
                                     // as below (float32 would lose digits where the mean
                                     // is large against the spread), vectorized.
                                     if (inner == 0 && step == 1) {
                                       const double sk = scale[k], hk = shift[k];
                                       for (int64_t i = 0; i < n; ++i)
                                         d[i] = static_cast<T>(s[i] * sk + hk);
                                       return;
                                     }
                                     for (int64_t i = 0; i < n; ++i) {
                                       d[i] = static_cast<T>(s[i * step] * scale[k + i * inner] +
                                                             shift[k + i * inner]);
                                     }
                                   });
                      });
    return absl::OkStatus();
  }

  // dbeta = sum dy, dgamma = sum dy (x - mean) invstd, and
  // dx = gamma invstd (dy - dbeta / m - (x - mean) invstd dgamma / m).
  template <typename T>
  absl::Status Grad(std::span<const Tensor* const> in, std::span<Tensor* const> out,
                    const ReduceLayout& l, const Shape& stats) const {
    const Tensor& x = *in[0];
    const Tensor& dy = *in[1];
    TENSORD_RETURN_IF_ERROR(CheckBatchNormGradient(dy.shape(), x.shape()));
    const char* op = "batch_norm_train_grad";
    const int64_t k_count = runtime::NumElements(stats), inner = l.out_strides.back();
    // gamma, mean, invstd, the two sums (dbeta..., sum dy (x - mean)...), then
    // dx = a dy + b (x - mean) + c.
    double* rows = ScratchRows(0, 8, k_count);
    double *gamma = rows, *mean = rows + k_count, *invstd = rows + 2 * k_count,
           *sums = rows + 3 * k_count, *a = rows + 5 * k_count, *b = rows + 6 * k_count,
           *c = rows + 7 * k_count;
    TENSORD_RETURN_IF_ERROR(ParamValues<T>(*in[2], stats, op, "gamma", gamma));
    TENSORD_RETURN_IF_ERROR(ParamValues<T>(*in[3], stats, op, "mean", mean));
    TENSORD_RETURN_IF_ERROR(ParamValues<T>(*in[4], stats, op, "invstd", invstd));
    const int64_t xs = x.strides().back(), ys = dy.strides().back();
    const T* px = x.data<T>();
    const T* py = dy.data<T>();
    const std::vector<Strides> walk = {l.out_strides, x.strides(), dy.strides()};
    const OuterSplit split(x.shape());
    Partials partial(split, l.out_strides[0] != 0, 2 * k_count);
    ForEachOuterRange(x.shape(), split, walk,
                      [&](int64_t r, const Shape& part, const std::vector<int64_t>& base) {
                        double* acc = partial.Range(r);
                        ForEachRow(part, walk, [&](int64_t n, int64_t, const int64_t* o) {
                          if (inner == 0 && xs == 1 && ys == 1) {
                            const int64_t k = base[0] + o[0];
                            AddGradientSums(py + base[2] + o[2], px + base[1] + o[1], n, mean[k],
                                            &acc[k], &acc[k_count + k]);
                            return;
                          }
                          for (int64_t i = 0; i < n; ++i) {
                            const int64_t k = base[0] + o[0] + i * inner;
                            const double g = py[base[2] + o[2] + i * ys];
                            acc[k] += g;
                            acc[k_count + k] += g * (px[base[1] + o[1] + i * xs] - mean[k]);
                          }
                        });
                      });
    partial.AddTo(sums);
    const double m = static_cast<double>(l.reduced_count);
    for (int64_t k = 0; k < k_count; ++k) {
      const double dbeta = sums[k], dgamma = sums[k_count + k] * invstd[k];
      out[1]->data<T>()[k] = static_cast<T>(dgamma);
      out[2]->data<T>()[k] = static_cast<T>(dbeta);
      a[k] = gamma[k] * invstd[k];
      b[k] = -a[k] * invstd[k] * dgamma / m;
      c[k] = -a[k] * dbeta / m;
    }
    T* dst = out[0]->data<T>();
    const Strides dst_strides = runtime::ContiguousStrides(x.shape());
    const std::vector<Strides> write = {l.out_strides, x.strides(), dy.strides(), dst_strides};
    ForEachOuterRange(
        x.shape(), split, write, [&](int64_t, const Shape& part, const std::vector<int64_t>& base) {
          ForEachRow(part, write, [&](int64_t n, int64_t, const int64_t* o) {
            if (inner == 0 && xs == 1 && ys == 1) {  // one statistic per row: vectorizes
              const int64_t k = base[0] + o[0];
              const double ak = a[k], bk = b[k], ck = c[k], mk = mean[k];
              const T* rx = px + base[1] + o[1];
              const T* ry = py + base[2] + o[2];
              T* d = dst + base[3] + o[3];
              for (int64_t i = 0; i < n; ++i)
                d[i] = static_cast<T>(ak * ry[i] + bk * (rx[i] - mk) + ck);
              return;
            }
            for (int64_t i = 0; i < n; ++i) {
              const int64_t k = base[0] + o[0] + i * inner;
              const double xm = px[base[1] + o[1] + i * xs] - mean[k];
              dst[base[3] + o[3] + i] =
                  static_cast<T>(a[k] * py[base[2] + o[2] + i * ys] + b[k] * xm + c[k]);
            }
          });
        });
    return absl::OkStatus();
  }

  const bool train_;
  const absl::StatusOr<std::vector<int64_t>> axes_;
  const double epsilon_;
};

}  // namespace

void RegisterBatchNormKernels(backends::KernelTable& k) {
  for (const char* op : {"batch_norm_train", "batch_norm_train_grad"})
    k.Add(op, backends::Make<BatchNormKernel>());
}

}  // namespace tensord::cpu
