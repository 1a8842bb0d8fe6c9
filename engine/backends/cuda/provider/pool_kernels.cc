#include "engine/backends/cuda/provider/pool_kernels.h"

#include "absl/strings/str_cat.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/pool.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

const std::vector<std::string> kKernelNames = {"tensord_pool", "tensord_pool_grad",
                                               "tensord_pool_grad_grad"};

// The source's struct, field for field: the pooled dims padded to three in front (a window of
// one element over a dim of one).
struct PoolParams {
  int64_t planes, in[3], out[3], ws[3], stride[3], pad[3];
  int64_t in_size, out_size;
  int64_t mode;  // ops::PoolMode's order: max, sum, average_inc_pad, average_exc_pad
};

class PoolKernel final : public backends::Kernel {
 public:
  PoolKernel(std::string op, ops::PoolAttrs attrs, DType dtype, std::string source,
             std::shared_ptr<DeviceRuntime> device)
      : op_(std::move(op)),
        attrs_(std::move(attrs)),
        dtype_(dtype),
        kernels_(std::move(source), kKernelNames),
        pack_(dtype, dtype, false),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const runtime::Shape& shape = in[0]->shape();
    if (in.size() > 1) {
      TENSORD_RETURN_IF_ERROR(ops::CheckPoolGradient(op_, attrs_, shape, in[1]->shape()));
    }
    const bool grad = op_ == "pool_grad";
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(
        result.Reshape(dtype_, grad ? shape : ops::PooledShapeOf(attrs_, shape)));
    if (result.num_elements() == 0) return absl::OkStatus();
    for (const Tensor* t : in) {
      if (t->host_accessible()) return Internal("an operand of a CUDA ", op_, " is in host memory");
    }
    if (result.host_accessible()) return Internal("the output of a CUDA kernel is in host memory");
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    TENSORD_ASSIGN_OR_RETURN(Tensor x, Packed(pack_, *device_, *in[0]));
    Tensor g;
    if (in.size() > 1) {
      TENSORD_ASSIGN_OR_RETURN(g, Packed(pack_, *device_, *in[1]));
    }
    PoolParams p;
    p.planes = 1;
    const int lead = static_cast<int>(shape.size()) - attrs_.nd;
    for (int d = 0; d < lead; ++d) p.planes *= shape[d];
    for (int i = 0; i < 3; ++i) {
      const int d = i - (3 - attrs_.nd);  // the pooled dim, or < 0 for a padding one
      p.in[i] = d < 0 ? 1 : shape[lead + d];
      p.out[i] = d < 0 ? 1 : attrs_.OutSize(d, shape[lead + d]);
      p.ws[i] = d < 0 ? 1 : attrs_.ws[d];
      p.stride[i] = d < 0 ? 1 : attrs_.stride[d];
      p.pad[i] = d < 0 ? 0 : attrs_.pad[d];
    }
    p.in_size = p.in[0] * p.in[1] * p.in[2];
    p.out_size = p.out[0] * p.out[1] * p.out[2];
    p.mode = static_cast<int64_t>(attrs_.mode);
    const void* x_data = x.raw();
    const void* g_data = g.buffer() ? g.raw() : nullptr;
    void* y_data = result.raw();
    const int which = op_ == "pool" ? 0 : grad ? 1 : 2;
    void* pool_args[] = {&x_data, &y_data, &p};
    void* grad_args[] = {&x_data, &g_data, &y_data, &p};
    return device_->Launch((*kernels)[which], GridFor(result.num_elements()), kThreads,
                           which == 0 ? pool_args : grad_args);
  }

 private:
  const std::string op_;
  const ops::PoolAttrs attrs_;
  const DType dtype_;
  KernelsOnce kernels_;
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// What the kernels share: the struct, window j of a dim (PoolWindows in engine/ops/defs/pool.cc:
// its real elements [lo, hi) and its length counting the padding), the windows of an output
// element, the offset in the plane of a window's first maximum (or first NaN; -1 for a window
// over nothing), and an average's divisor.
constexpr char kWindows[] = R"(
struct tensord_pool_params {
  long long planes, in[3], out[3], ws[3], stride[3], pad[3];
  long long in_size, out_size, mode;
};
struct tensord_pool_window { long long lo[3], hi[3], len[3]; };
__device__ inline tensord_pool_window tensord_window_of(const tensord_pool_params& p,
                                                        const long long* j) {
  tensord_pool_window w;
  for (int d = 0; d < 3; ++d) {
    const long long padded = p.in[d] + 2 * p.pad[d], start = j[d] * p.stride[d];
    const long long end = start + p.ws[d] < padded ? start + p.ws[d] : padded;
    w.lo[d] = (start > p.pad[d] ? start : p.pad[d]) - p.pad[d];
    w.hi[d] = (end < padded - p.pad[d] ? end : padded - p.pad[d]) - p.pad[d];
    w.len[d] = end - start;
  }
  return w;
}
__device__ inline tensord_pool_window tensord_output_window(const tensord_pool_params& p,
                                                            long long o) {
  const long long j[3] = {o / (p.out[1] * p.out[2]), (o / p.out[2]) % p.out[1], o % p.out[2]};
  return tensord_window_of(p, j);
}
__device__ inline long long tensord_first_max(const T* plane, const tensord_pool_params& p,
                                              const tensord_pool_window& w) {
  long long at = -1;
  T best = T(0);
  for (long long z = w.lo[0]; z < w.hi[0]; ++z)
    for (long long y = w.lo[1]; y < w.hi[1]; ++y)
      for (long long x = w.lo[2]; x < w.hi[2]; ++x) {
        const long long e = (z * p.in[1] + y) * p.in[2] + x;
        const T v = plane[e];
        if (v != v) return e;
        if (at < 0 || v > best) {
          best = v;
          at = e;
        }
      }
  return at;
}
__device__ inline double tensord_divisor(const tensord_pool_params& p,
                                         const tensord_pool_window& w) {
  if (p.mode == 2) return (double)(w.len[0] * w.len[1] * w.len[2]);
  if (p.mode == 3) {
    return (double)((w.hi[0] - w.lo[0]) * (w.hi[1] - w.lo[1]) * (w.hi[2] - w.lo[2]));
  }
  return 1.0;
}
__device__ inline bool tensord_window_empty(const tensord_pool_window& w) {
  return w.hi[0] <= w.lo[0] || w.hi[1] <= w.lo[1] || w.hi[2] <= w.lo[2];
}
)";

}  // namespace

bool IsDevicePool(const ir::Apply& node) {
  if (node.op != "pool" && node.op != "pool_grad" && node.op != "pool_grad_grad") return false;
  if (!ops::GetPoolAttrs(node).ok()) return false;
  const DType dtype = node.outputs[0]->type.dtype;
  for (const ir::Variable* v : node.inputs)
    if (v->type.dtype != dtype) return false;
  return FloatDType(dtype);
}

absl::StatusOr<std::string> PoolSource(DType dtype) {
  if (!FloatDType(dtype)) return InvalidArgument("CUDA pooling of ", DTypeName(dtype));
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/pool_kernels.cc).\n", "typedef ",
      CudaCType(dtype), " T;\n",
      // The NaN the host writes (a quiet NaN, sign clear), from its bits: a GPU's conversion of
      // a double NaN gives its own canonical NaN.
      "__device__ inline T tensord_host_nan() { return ",
      dtype == DType::kFloat32 ? "__int_as_float(0x7fc00000)"
                               : "__longlong_as_double(0x7ff8000000000000LL)",
      "; }\n", kWindows,
      // Each window's maximum (NaN if it holds one), or its sum in C order divided as the host
      // divides (in double); 0 over a window of nothing.
      R"(extern "C" __global__ void tensord_pool(const T* x, T* y, const tensord_pool_params p) {
  const long long n = p.planes * p.out_size, step = (long long)blockDim.x * gridDim.x;
  for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < n; o += step) {
    const T* plane = x + (o / p.out_size) * p.in_size;
    const tensord_pool_window w = tensord_output_window(p, o % p.out_size);
    if (tensord_window_empty(w)) {
      y[o] = T(0);
      continue;
    }
    if (p.mode == 0) {
      const T v = plane[tensord_first_max(plane, p, w)];
      y[o] = v != v ? tensord_host_nan() : v;
      continue;
    }
    T sum = T(0);
    for (long long z = w.lo[0]; z < w.hi[0]; ++z)
      for (long long r = w.lo[1]; r < w.hi[1]; ++r)
        for (long long c = w.lo[2]; c < w.hi[2]; ++c) sum += plane[(z * p.in[1] + r) * p.in[2] + c];
    y[o] = (T)((double)sum / tensord_divisor(p, w));
  }
}
)",
      // x's gradient: each element sums over the windows covering it, in their C order.
      R"(extern "C" __global__ void tensord_pool_grad(const T* x, const T* gz, T* gx,
    const tensord_pool_params p) {
  const long long n = p.planes * p.in_size, step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long e = i % p.in_size;
    const T* plane = x + (i / p.in_size) * p.in_size;
    const T* g = gz + (i / p.in_size) * p.out_size;
    const long long at[3] = {e / (p.in[1] * p.in[2]), (e / p.in[2]) % p.in[1], e % p.in[2]};
    long long first[3], last[3];  // the windows whose span (padding included) holds the element
    for (int d = 0; d < 3; ++d) {
      const long long reach = at[d] + p.pad[d] - p.ws[d] + 1;
      first[d] = reach <= 0 ? 0 : (reach + p.stride[d] - 1) / p.stride[d];
      last[d] = (at[d] + p.pad[d]) / p.stride[d];
      if (last[d] > p.out[d] - 1) last[d] = p.out[d] - 1;
    }
    T sum = T(0);
    long long j[3];
    for (j[0] = first[0]; j[0] <= last[0]; ++j[0])
      for (j[1] = first[1]; j[1] <= last[1]; ++j[1])
        for (j[2] = first[2]; j[2] <= last[2]; ++j[2]) {
          const tensord_pool_window w = tensord_window_of(p, j);
          bool inside = true;
          for (int d = 0; d < 3; ++d) inside = inside && w.lo[d] <= at[d] && at[d] < w.hi[d];
          if (!inside) continue;
          const long long o = (j[0] * p.out[1] + j[1]) * p.out[2] + j[2];
          if (p.mode == 0) {
            if (tensord_first_max(plane, p, w) == e) sum += g[o];
          } else {
            sum += (T)((double)g[o] / tensord_divisor(p, w));
          }
        }
    gx[i] = sum;
  }
}
)",
      // ggx read at each window's first maximum (max pooling's second derivative).
      R"(extern "C" __global__ void tensord_pool_grad_grad(const T* x, const T* ggx, T* y,
    const tensord_pool_params p) {
  const long long n = p.planes * p.out_size, step = (long long)blockDim.x * gridDim.x;
  for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < n; o += step) {
    const long long base = (o / p.out_size) * p.in_size;
    const tensord_pool_window w = tensord_output_window(p, o % p.out_size);
    y[o] = tensord_window_empty(w) ? T(0) : ggx[base + tensord_first_max(x + base, p, w)];
  }
}
)");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakePoolKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDevicePool(node)) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  TENSORD_ASSIGN_OR_RETURN(ops::PoolAttrs attrs, ops::GetPoolAttrs(node));
  const DType dtype = node.outputs[0]->type.dtype;
  TENSORD_ASSIGN_OR_RETURN(std::string source, PoolSource(dtype));
  return std::unique_ptr<backends::Kernel>(
      new PoolKernel(node.op, std::move(attrs), dtype, std::move(source), std::move(device)));
}

}  // namespace tensord::cuda
