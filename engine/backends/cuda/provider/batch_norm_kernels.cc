#include "engine/backends/cuda/provider/batch_norm_kernels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/fold_layout.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/common/status.h"
#include "engine/ops/defs/batch_norm.h"
#include "engine/ops/defs/reduce_util.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

constexpr int kDims = kMostFoldDims;
using Dims = FoldDims;
const std::vector<std::string> kKernelNames = {"tensord_bn_stats", "tensord_bn_normalize",
                                               "tensord_bn_grad_sums", "tensord_bn_grad"};

// The source's struct, field for field: x's kept dims (one statistic each) and reduced dims, each
// C order padded in front with dims of 1; every operand's strides over them (the parameters'
// over the kept dims, 0 where they broadcast).
struct BatchNormParams {
  int64_t stats, reduced;
  Dims kept_shape, reduced_shape;
  Dims x_kept, x_reduced, y_kept, y_reduced, out_kept, out_reduced;
  Dims p0, p1, p2;  // gamma, beta (train); gamma, mean, invstd (gradient)
  double epsilon;
};

class BatchNormKernel final : public backends::Kernel {
 public:
  BatchNormKernel(bool train, std::vector<int64_t> axes, double epsilon, DType dtype,
                  std::string source, std::shared_ptr<DeviceRuntime> device)
      : train_(train),
        axes_(std::move(axes)),
        epsilon_(epsilon),
        dtype_(dtype),
        kernels_(std::move(source), kKernelNames),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = train_ ? "batch_norm_train" : "batch_norm_train_grad";
    const Tensor& x = *in[0];
    const runtime::Shape stats = ops::BatchNormStatsShape(x.shape(), axes_);
    if (!train_ && x.num_elements() > 0) {  // as the host checks it: where x has elements
      TENSORD_RETURN_IF_ERROR(ops::CheckBatchNormGradient(in[1]->shape(), x.shape()));
    }
    for (int k = 0; k < 3; ++k)
      TENSORD_RETURN_IF_ERROR(out[k]->Reshape(dtype_, k == 0 ? x.shape() : stats));
    // The parameters, as the host checks them: where x has elements.
    const int first_param = train_ ? 1 : 2;
    const char* names[] = {"gamma", train_ ? "beta" : "mean", "invstd"};
    for (int k = first_param; k < static_cast<int>(in.size()) && x.num_elements() > 0; ++k) {
      TENSORD_RETURN_IF_ERROR(
          ops::CheckBatchNormParam(in[k]->shape(), stats, op, names[k - first_param]));
    }
    if (out[1]->num_elements() == 0) return absl::OkStatus();
    for (const Tensor* t : in) {
      if (t->num_elements() > 0 && t->host_accessible()) {
        return Internal("an operand of a CUDA ", op, " is in host memory");
      }
    }
    for (const Tensor* t : out) {
      if (t->num_elements() > 0 && t->host_accessible()) {
        return Internal("an output of a CUDA ", op, " is in host memory");
      }
    }
    BatchNormParams p = Layout(in, stats);
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    Tensor coefficients;  // per statistic: the second pass's (4 rows of doubles)
    {
      runtime::ScopedMemoryContext on(out[1]->buffer()->counter());
      TENSORD_ASSIGN_OR_RETURN(coefficients, Tensor::Allocate(DType::kFloat64, {4, p.stats}));
    }
    void* coef = coefficients.raw();
    const void* x_data = x.raw();
    void* out_data = out[0]->raw();
    void* stat1 = out[1]->raw();
    void* stat2 = out[2]->raw();
    const int64_t blocks = std::min(p.stats, kMostBlocks), n = x.num_elements();
    if (train_) {
      const void* gamma = in[1]->raw();
      const void* beta = in[2]->raw();
      void* stats_args[] = {&x_data, &gamma, &beta, &stat1, &stat2, &coef, &p};
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[0], blocks, kThreads, stats_args));
      if (n == 0) return absl::OkStatus();
      void* normalize_args[] = {&x_data, &coef, &out_data, &p};
      return device_->Launch((*kernels)[1], GridFor(n), kThreads, normalize_args);
    }
    const void* dy = in[1]->raw();
    const void* gamma = in[2]->raw();
    const void* mean = in[3]->raw();
    const void* invstd = in[4]->raw();
    void* sums_args[] = {&x_data, &dy, &gamma, &mean, &invstd, &stat1, &stat2, &coef, &p};
    TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[2], blocks, kThreads, sums_args));
    if (n == 0) return absl::OkStatus();
    void* grad_args[] = {&x_data, &dy, &coef, &out_data, &p};
    return device_->Launch((*kernels)[3], GridFor(n), kThreads, grad_args);
  }

 private:
  // x's dims split into kept and reduced ones, and every operand's strides over them.
  BatchNormParams Layout(std::span<const Tensor* const> in, const runtime::Shape& stats) const {
    const Tensor& x = *in[0];
    const FoldLayout l = MakeFoldLayout(x.shape(), axes_);
    BatchNormParams p{};
    p.epsilon = epsilon_;
    p.stats = l.outputs;
    p.reduced = l.reduced;
    p.kept_shape = l.kept_shape;
    p.reduced_shape = l.reduced_shape;
    SplitStrides(l, x.strides(), &p.x_kept, &p.x_reduced);
    if (!train_) SplitStrides(l, in[1]->strides(), &p.y_kept, &p.y_reduced);
    SplitStrides(l, runtime::ContiguousStrides(x.shape()), &p.out_kept, &p.out_reduced);
    FoldDims* params[] = {&p.p0, &p.p1, &p.p2};  // gamma, beta; or gamma, mean, invstd
    FoldDims unread;                             // over the reduced dims they broadcast along
    for (size_t k = 0, first = train_ ? 1 : 2; first + k < in.size(); ++k)
      SplitStrides(l, cpu::BroadcastStrides(*in[first + k], stats), params[k], &unread);
    return p;
  }

  const bool train_;
  const std::vector<int64_t> axes_;
  const double epsilon_;
  const DType dtype_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
};

}  // namespace

bool IsDeviceBatchNorm(const ir::Apply& node) {
  if (node.op != "batch_norm_train" && node.op != "batch_norm_train_grad") return false;
  const DType dtype = node.outputs[0]->type.dtype;
  for (const ir::Variable* v : node.inputs) {
    if (v->type.dtype != dtype || v->type.ndim() > kMostFoldDims) return false;
  }
  return FloatDType(dtype) && ops::ReducedAxes(node).ok();
}

absl::StatusOr<std::string> BatchNormSource(DType dtype) {
  if (!FloatDType(dtype))
    return InvalidArgument("a CUDA batch normalization of ", DTypeName(dtype));
  const int r = kDims;
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/batch_norm_kernels.cc).\n",
      "typedef ", CudaCType(dtype), " T;\n", "struct tensord_bn_params {\n",
      "  long long stats, reduced;\n", "  long long kept_shape[", r, "], reduced_shape[", r, "];\n",
      "  long long x_kept[", r, "], x_reduced[", r, "], y_kept[", r, "], y_reduced[", r,
      "], out_kept[", r, "], out_reduced[", r, "];\n", "  long long p0[", r, "], p1[", r, "], p2[",
      r, "];\n  double epsilon;\n};\n", OffsetSource(r),
      R"(__device__ inline long long tensord_kept(const tensord_bn_params& p, long long k,
                                        const long long* strides) {
  return tensord_offset(k, p.kept_shape, strides);
}
__device__ inline long long tensord_reduced(const tensord_bn_params& p, long long r,
                                           const long long* strides) {
  return tensord_offset(r, p.reduced_shape, strides);
}
)",
      BlockSumSource(),
      // Statistic k: its mean and invstd (NaN over no element), scale = gamma invstd and
      // shift = beta - mean scale into coef's first two rows.
      R"(extern "C" __global__ void tensord_bn_stats(const T* x, const T* gamma, const T* beta,
    T* mean_out, T* invstd_out, double* coef, const tensord_bn_params p) {
  __shared__ double partial[)",
      kThreads, R"(];
  const double m = (double)p.reduced;
  for (long long k = blockIdx.x; k < p.stats; k += gridDim.x) {
    const T* row = x + tensord_kept(p, k, p.x_kept);
    double sum = 0;
    for (long long r = threadIdx.x; r < p.reduced; r += blockDim.x)
      sum += (double)row[tensord_reduced(p, r, p.x_reduced)];
    const double mean = tensord_block_sum(sum, partial) / m;
    double squares = 0;
    for (long long r = threadIdx.x; r < p.reduced; r += blockDim.x) {
      const double d = (double)row[tensord_reduced(p, r, p.x_reduced)] - mean;
      squares += d * d;
    }
    const double deviations = tensord_block_sum(squares, partial);
    if (threadIdx.x == 0) {
      const double invstd = 1.0 / sqrt(deviations / m + p.epsilon);
      mean_out[k] = (T)mean;
      invstd_out[k] = (T)invstd;
      if (p.reduced > 0) {  // else no element reads them, and the parameters go unread
        const double scale = (double)gamma[tensord_kept(p, k, p.p0)] * invstd;
        coef[k] = scale;
        coef[p.stats + k] = (double)beta[tensord_kept(p, k, p.p1)] - mean * scale;
      }
    }
  }
}
extern "C" __global__ void tensord_bn_normalize(const T* x, const double* coef, T* out,
    const tensord_bn_params p) {
  const long long n = p.stats * p.reduced, step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long k = i / p.reduced, r = i % p.reduced;
    const T v = x[tensord_kept(p, k, p.x_kept) + tensord_reduced(p, r, p.x_reduced)];
    out[tensord_kept(p, k, p.out_kept) + tensord_reduced(p, r, p.out_reduced)] =
        (T)((double)v * coef[k] + coef[p.stats + k]);
  }
}
)",
      // Statistic k's gradients: dbeta = sum dy, dgamma = sum dy (x - mean) invstd (0 over no
      // element); a = gamma invstd, b = -a invstd dgamma / m, c = -a dbeta / m and the mean
      // into coef's rows for dx = a dy + b (x - mean) + c.
      R"(extern "C" __global__ void tensord_bn_grad_sums(const T* x, const T* dy, const T* gamma,
    const T* mean, const T* invstd, T* dgamma, T* dbeta, double* coef,
    const tensord_bn_params p) {
  __shared__ double partial[)",
      kThreads, R"(];
  const double m = (double)p.reduced;
  for (long long k = blockIdx.x; k < p.stats; k += gridDim.x) {
    if (p.reduced == 0) {
      if (threadIdx.x == 0) dgamma[k] = dbeta[k] = T(0);
      continue;
    }
    const double mk = (double)mean[tensord_kept(p, k, p.p1)];
    const T* xs = x + tensord_kept(p, k, p.x_kept);
    const T* ys = dy + tensord_kept(p, k, p.y_kept);
    double gs = 0, gxs = 0;
    for (long long r = threadIdx.x; r < p.reduced; r += blockDim.x) {
      const double g = (double)ys[tensord_reduced(p, r, p.y_reduced)];
      gs += g;
      gxs += g * ((double)xs[tensord_reduced(p, r, p.x_reduced)] - mk);
    }
    const double db = tensord_block_sum(gs, partial);
    const double sum_gx = tensord_block_sum(gxs, partial);
    if (threadIdx.x == 0) {
      const double is = (double)invstd[tensord_kept(p, k, p.p2)];
      const double dg = sum_gx * is;
      const double a = (double)gamma[tensord_kept(p, k, p.p0)] * is;
      dgamma[k] = (T)dg;
      dbeta[k] = (T)db;
      coef[k] = a;
      coef[p.stats + k] = -a * is * dg / m;
      coef[2 * p.stats + k] = -a * db / m;
      coef[3 * p.stats + k] = mk;
    }
  }
}
extern "C" __global__ void tensord_bn_grad(const T* x, const T* dy, const double* coef, T* dx,
    const tensord_bn_params p) {
  const long long n = p.stats * p.reduced, step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long k = i / p.reduced, r = i % p.reduced;
    const double xv = (double)x[tensord_kept(p, k, p.x_kept) + tensord_reduced(p, r, p.x_reduced)];
    const double g = (double)dy[tensord_kept(p, k, p.y_kept) + tensord_reduced(p, r, p.y_reduced)];
    dx[tensord_kept(p, k, p.out_kept) + tensord_reduced(p, r, p.out_reduced)] =
        (T)(coef[k] * g + coef[p.stats + k] * (xv - coef[3 * p.stats + k]) + coef[2 * p.stats + k]);
  }
}
)");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeBatchNormKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceBatchNorm(node)) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> axes, ops::ReducedAxes(node));
  const bool train = node.op == "batch_norm_train";
  double epsilon = 0;
  if (train) {
    TENSORD_ASSIGN_OR_RETURN(epsilon, ir::GetAttr<double>(node, "epsilon"));
  }
  const DType dtype = node.outputs[0]->type.dtype;
  TENSORD_ASSIGN_OR_RETURN(std::string source, BatchNormSource(dtype));
  return std::unique_ptr<backends::Kernel>(new BatchNormKernel(
      train, std::move(axes), epsilon, dtype, std::move(source), std::move(device)));
}

}  // namespace tensord::cuda
