// Statistics over an axis list: mean, var, std. They accumulate in float64 whatever the input
// (NumPy's float32 results come from pairwise float32 sums; float64 keeps us within rounding),
// and var is two-pass: the mean first, then the squared deviations from it.
#include <cmath>

#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/reduce_util.h"

namespace tensord::ops {
namespace {

enum class Moment { kMean, kVar, kStd };

// Theano's and NumPy's rule: float32 stays float32, everything else (ints, bool) is float64.
absl::StatusOr<std::vector<ir::Type>> InferMoment(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(CheckReducibleDType(node));
  DType in = node.inputs[0]->type.dtype;
  DType dtype = in == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
  if (node.attrs.count("ddof")) {
    TENSORD_ASSIGN_OR_RETURN(int64_t ddof, ir::GetAttr<int64_t>(node, "ddof"));
    if (ddof < 0) return InvalidArgument(node.op, ": ddof must be >= 0, got ", ddof);
  }
  TENSORD_ASSIGN_OR_RETURN(ir::Type out, ReducedType(node, dtype));
  return std::vector<ir::Type>{out};
}

class MomentKernel final : public Kernel {
 public:
  MomentKernel(Moment kind, std::vector<int64_t> axes, int64_t ddof, bool corrected)
      : kind_(kind), axes_(std::move(axes)), ddof_(ddof), corrected_(corrected) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    const ReduceLayout l = MakeReduceLayout(x.shape(), axes_);
    const DType out_dtype = x.dtype() == DType::kFloat32 ? DType::kFloat32 : DType::kFloat64;
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(out_dtype, l.out_shape));
    const int64_t n_out = out[0]->num_elements();
    // Per-thread scratch: kernels are shared by concurrent runs, and steady-state runs should
    // not allocate.
    thread_local std::vector<double> mean, sq, dev;
    mean.assign(n_out, 0.0);
    const double n = static_cast<double>(l.reduced_count);
    TENSORD_RETURN_IF_ERROR(cpu::DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      const int64_t inner = l.out_strides.empty() ? 0 : l.out_strides.back();
      cpu::ForEachRow(x.shape(), {l.out_strides, x.strides()},
                      [&](int64_t len, int64_t, const int64_t* o) {
                        double* acc = mean.data() + o[0];
                        const T* s = src + o[1];
                        for (int64_t i = 0; i < len; ++i)
                          acc[i * inner] += static_cast<double>(s[i * step]);
                      });
      for (double& m : mean) m /= n;  // 0 / 0 = NaN for empty reductions, as NumPy
      if (kind_ == Moment::kMean) return absl::OkStatus();
      sq.assign(n_out, 0.0);
      dev.assign(n_out, 0.0);
      cpu::ForEachRow(x.shape(), {l.out_strides, x.strides()},
                      [&](int64_t len, int64_t, const int64_t* o) {
                        const T* s = src + o[1];
                        for (int64_t i = 0; i < len; ++i) {
                          const int64_t k = o[0] + i * inner;
                          const double d = static_cast<double>(s[i * step]) - mean[k];
                          sq[k] += d * d;
                          dev[k] += d;
                        }
                      });
      return absl::OkStatus();
    }));
    // NumPy divides by max(n - ddof, 0): too few elements give inf (or NaN for 0 / 0).
    const double divisor = std::max(n - static_cast<double>(ddof_), 0.0);
    return cpu::DispatchFloat(out_dtype, [&](auto tag) -> absl::Status {
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
        if (corrected_ && n > 0) num -= dev[i] * dev[i] / n;
        const double var = num / divisor;
        dst[i] = static_cast<R>(kind_ == Moment::kStd ? std::sqrt(var) : var);
      }
      return absl::OkStatus();
    });
  }

 private:
  Moment kind_;
  std::vector<int64_t> axes_;
  int64_t ddof_;
  bool corrected_;
};

OpDef MomentOp(std::string name, Moment kind, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.infer_types = InferMoment;
  d.make_cpu_kernel = [kind](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
    int64_t ddof = 0;
    bool corrected = false;
    if (node.attrs.count("ddof")) {
      TENSORD_ASSIGN_OR_RETURN(ddof, ir::GetAttr<int64_t>(node, "ddof"));
    }
    if (node.attrs.count("corrected")) {
      TENSORD_ASSIGN_OR_RETURN(corrected, ir::GetAttr<bool>(node, "corrected"));
    }
    return std::unique_ptr<Kernel>(new MomentKernel(kind, std::move(axes), ddof, corrected));
  };
  d.tags = kTagReduction;
  return d;
}

}  // namespace

void RegisterReductionStats(Registry& r) {
  r.Add(MomentOp("mean", Moment::kMean,
                 "mean(x; axis=None|ints) (numpy.mean; float32 stays float32, others -> float64)"));
  r.Add(MomentOp("var", Moment::kVar,
                 "var(x; axis=None|ints, ddof=0, corrected=false) (numpy.var; two-pass in "
                 "float64; corrected subtracts Theano's (sum of deviations)^2 / n)"));
  r.Add(MomentOp("std", Moment::kStd,
                 "std(x; axis=None|ints, ddof=0, corrected=false) (numpy.std = sqrt(var))"));
}

}  // namespace tensord::ops
