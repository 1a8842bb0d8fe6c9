#include "engine/backends/cuda/provider/conv_kernels.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/conv.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

std::atomic<int64_t> column_bytes{kColumnBytes};

enum class Kind { kForward, kBackwardData, kBackwardWeights };
enum Kernels { kIm2Col, kCol2Im, kTopColumns, kOutput };
const std::vector<std::string> kKernelNames = {"tensord_conv_im2col", "tensord_conv_col2im",
                                               "tensord_conv_top_columns", "tensord_conv_output"};

Kind KindOf(const std::string& op) {
  if (op == "conv" || op == "conv_fused") return Kind::kForward;
  return op == "conv_grad_inputs" ? Kind::kBackwardData : Kind::kBackwardWeights;
}

class ConvKernel final : public backends::Kernel {
 public:
  ConvKernel(const ir::Apply& node, ops::ConvAttrs attrs, std::string source,
             std::shared_ptr<DeviceRuntime> device)
      : op_(node.op),
        kind_(KindOf(node.op)),
        attrs_(std::move(attrs)),
        bias_(node.op == "conv_fused"),
        dtype_(node.outputs[0]->type.dtype),
        kernels_(std::move(source), kKernelNames),
        pack_(dtype_, dtype_, false),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (kind_ != Kind::kForward && !in[2]->host_accessible()) {
      return Internal(op_, "'s spatial shape is on a device");
    }
    TENSORD_ASSIGN_OR_RETURN(ops::ConvGeometry g, ops::OperandGeometry(attrs_, op_, in));
    // One filter and a bias of several channels: the one output channel broadcasts over the
    // bias's, as on the host (the output copy reads the one row for each).
    int64_t out_channels = g.out_channels;
    if (bias_ && g.out_channels == 1) out_channels = std::max<int64_t>(1, in[2]->num_elements());
    runtime::Shape shape = kind_ == Kind::kForward        ? g.OutputShape()
                           : kind_ == Kind::kBackwardData ? g.InputShape()
                                                          : g.FilterShape();
    if (kind_ == Kind::kForward) shape[1] = out_channels;
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(dtype_, shape));
    if (result.num_elements() == 0) return absl::OkStatus();
    if (bias_) TENSORD_RETURN_IF_ERROR(ops::CheckConvBias(*in[2], dtype_, out_channels));
    if (result.host_accessible() || in[0]->host_accessible() || in[1]->host_accessible() ||
        (bias_ && in[2]->host_accessible())) {
      return Internal("an operand of a CUDA ", op_, " is in host memory");
    }
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    TENSORD_ASSIGN_OR_RETURN(Tensor a, Packed(pack_, *device_, *in[0]));
    TENSORD_ASSIGN_OR_RETURN(Tensor b, Packed(pack_, *device_, *in[1]));
    Tensor bias;
    if (bias_) {
      TENSORD_ASSIGN_OR_RETURN(bias, Packed(pack_, *device_, *in[2]));
    }
    Pass pass{*this, *kernels, ops::PaddedTo3(g), g, out_channels, 1, Tensor(), Tensor()};
    switch (kind_) {
      case Kind::kForward:
        return pass.Forward(a, b, bias_ ? &bias : nullptr, result);
      case Kind::kBackwardData:
        return pass.BackwardData(a, b, result);
      case Kind::kBackwardWeights:
        return pass.BackwardWeights(a, b, result);
    }
    return absl::OkStatus();
  }

 private:
  // One run's geometry and scratch: the columns of a chunk of images and their outputs (or
  // output gradients) side by side, allocated where the result lives.
  struct Pass {
    ConvKernel& kernel;
    const std::vector<KernelHandle>& handles;
    ops::ConvDims3 q;
    const ops::ConvGeometry& g;
    int64_t out_channels;  // of the result (conv_fused may broadcast one filter over a bias)
    int64_t chunk = 1;     // images per pass
    Tensor columns, tops;

    absl::Status Allocate(const Tensor& result) {
      // An image's columns and its outputs (or output gradients) side by side.
      const int64_t per_image = std::max<int64_t>(
          1, (g.channels * q.taps + g.out_channels) * q.out_size * DTypeSize(kernel.dtype_));
      chunk =
          std::clamp<int64_t>(column_bytes.load() / per_image, 1, std::max<int64_t>(g.batch, 1));
      runtime::ScopedMemoryContext on(result.buffer()->counter());
      TENSORD_ASSIGN_OR_RETURN(
          columns, Tensor::Allocate(kernel.dtype_, {g.channels * q.taps * chunk, q.out_size}));
      TENSORD_ASSIGN_OR_RETURN(
          tops, Tensor::Allocate(kernel.dtype_, {g.out_channels * chunk, q.out_size}));
      return absl::OkStatus();
    }

    // Launches kernel `k` over `n` elements (none when n is 0).
    absl::Status Launch(Kernels k, int64_t n, std::initializer_list<void*> args) {
      if (n == 0) return absl::OkStatus();
      std::array<void*, 9> packed{};  // on the stack: a run allocates no host memory here
      std::copy(args.begin(), args.end(), packed.begin());
      return kernel.device_->Launch(handles[k], GridFor(n), kThreads, packed.data());
    }

    // The columns of images [first, first + m) of x.
    absl::Status Im2Col(const Tensor& x, int64_t first, int64_t m) {
      const void* from = static_cast<const char*>(x.raw()) +
                         first * g.channels * q.in_size * DTypeSize(kernel.dtype_);
      void* to = columns.raw();
      int64_t channels = g.channels;
      int flip = kernel.attrs_.flip;
      return Launch(kIm2Col, g.channels * q.taps * m * q.out_size,
                    {&from, &to, &q, &channels, &m, &flip});
    }

    // dy's images [first, first + m) side by side into tops.
    absl::Status TopColumns(const Tensor& dy, int64_t first, int64_t m) {
      const void* from = static_cast<const char*>(dy.raw()) +
                         first * g.out_channels * q.out_size * DTypeSize(kernel.dtype_);
      void* to = tops.raw();
      int64_t channels = g.out_channels, size = q.out_size;
      return Launch(kTopColumns, channels * m * size, {&from, &to, &channels, &m, &size});
    }

    // One product per group (a strided batch): c = op(a) op(b) (+ c when accumulating).
    absl::Status Products(bool trans_a, bool trans_b, int64_t rows, int64_t cols, int64_t depth,
                          const void* pa, int64_t lda, int64_t stride_a, const void* pb,
                          int64_t ldb, int64_t stride_b, bool accumulate, void* pc) {
      GemmBatch batch{g.groups, stride_a, stride_b, rows * cols};
      return kernel.device_->Gemm(kernel.dtype_, trans_a, trans_b, rows, cols, depth, 1.0, pa, lda,
                                  pb, ldb, accumulate ? 1.0 : 0.0, pc, batch);
    }

    absl::Status Forward(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
      TENSORD_RETURN_IF_ERROR(Allocate(y));
      for (int64_t first = 0; first < g.batch; first += chunk) {
        int64_t m = std::min(chunk, g.batch - first), width = m * q.out_size;
        TENSORD_RETURN_IF_ERROR(Im2Col(x, first, m));
        TENSORD_RETURN_IF_ERROR(Products(false, false, q.group_out, width, q.col_rows, w.raw(),
                                         q.col_rows, q.group_out * q.col_rows, columns.raw(), width,
                                         q.col_rows * width, false, tops.raw()));
        const void* from = tops.raw();
        void* to = static_cast<char*>(y.raw()) +
                   first * out_channels * q.out_size * DTypeSize(kernel.dtype_);
        const void* bias_data = bias != nullptr ? bias->raw() : nullptr;
        int64_t bias_count = bias != nullptr ? bias->num_elements() : 0;
        int64_t channels = out_channels, rows = g.out_channels, size = q.out_size;
        int relu = kernel.attrs_.relu;
        TENSORD_RETURN_IF_ERROR(
            Launch(kOutput, channels * m * size,
                   {&from, &to, &bias_data, &bias_count, &channels, &rows, &m, &size, &relu}));
      }
      return absl::OkStatus();
    }

    absl::Status BackwardData(const Tensor& w, const Tensor& dy, Tensor& dx) {
      TENSORD_RETURN_IF_ERROR(Allocate(dx));
      for (int64_t first = 0; first < g.batch; first += chunk) {
        int64_t m = std::min(chunk, g.batch - first), width = m * q.out_size;
        TENSORD_RETURN_IF_ERROR(TopColumns(dy, first, m));
        TENSORD_RETURN_IF_ERROR(Products(true, false, q.col_rows, width, q.group_out, w.raw(),
                                         q.col_rows, q.group_out * q.col_rows, tops.raw(), width,
                                         q.group_out * width, false, columns.raw()));
        const void* from = columns.raw();
        void* to = static_cast<char*>(dx.raw()) +
                   first * g.channels * q.in_size * DTypeSize(kernel.dtype_);
        int64_t channels = g.channels;
        int flip = kernel.attrs_.flip;
        TENSORD_RETURN_IF_ERROR(
            Launch(kCol2Im, m * channels * q.in_size, {&from, &to, &q, &channels, &m, &flip}));
      }
      return absl::OkStatus();
    }

    absl::Status BackwardWeights(const Tensor& x, const Tensor& dy, Tensor& dw) {
      TENSORD_RETURN_IF_ERROR(Allocate(dw));
      if (g.batch == 0) {  // a sum over no image: zeros (a product of depth 0)
        return Products(false, true, q.group_out, q.col_rows, 0, nullptr, 1, 0, nullptr, 1, 0,
                        false, dw.raw());
      }
      for (int64_t first = 0; first < g.batch; first += chunk) {
        int64_t m = std::min(chunk, g.batch - first), width = m * q.out_size;
        TENSORD_RETURN_IF_ERROR(Im2Col(x, first, m));
        TENSORD_RETURN_IF_ERROR(TopColumns(dy, first, m));
        TENSORD_RETURN_IF_ERROR(Products(false, true, q.group_out, q.col_rows, width, tops.raw(),
                                         width, q.group_out * width, columns.raw(), width,
                                         q.col_rows * width, first > 0, dw.raw()));
      }
      return absl::OkStatus();
    }
  };

  const std::string op_;
  const Kind kind_;
  const ops::ConvAttrs attrs_;
  const bool bias_;  // conv_fused: a bias and an activation after the product
  const DType dtype_;
  KernelsOnce kernels_;
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// The source's tap and position walk, shared by im2col and col2im: tap t's index along each
// dim (reversed for a true convolution) and output position o's.
constexpr char kWalk[] = R"(
struct tensord_conv_dims {
  long long in[3], k[3], out[3], s[3], p[3], d[3];
  long long in_size, taps, out_size, group_in, group_out, col_rows;
};
__device__ inline void tensord_tap(const tensord_conv_dims& q, long long t, int flip,
                                   long long* k) {
  k[2] = t % q.k[2];
  k[1] = (t / q.k[2]) % q.k[1];
  k[0] = t / (q.k[2] * q.k[1]);
  if (flip) {
    for (int i = 0; i < 3; ++i) k[i] = q.k[i] - 1 - k[i];
  }
}
)";

}  // namespace

void SetColumnBytesForTesting(int64_t bytes) { column_bytes = bytes > 0 ? bytes : kColumnBytes; }

bool IsDeviceConv(const ir::Apply& node) {
  if (node.op != "conv" && node.op != "conv_fused" && node.op != "conv_grad_inputs" &&
      node.op != "conv_grad_weights") {
    return false;
  }
  if (!ops::GetConvAttrs(node).ok()) return false;
  const DType dtype = node.outputs[0]->type.dtype;
  const size_t operands = node.op == "conv_fused" ? 3 : 2;
  for (size_t k = 0; k < operands; ++k)
    if (node.inputs[k]->type.dtype != dtype) return false;
  return FloatDType(dtype);
}

absl::StatusOr<std::string> ConvSource(DType dtype) {
  if (!FloatDType(dtype)) return InvalidArgument("a CUDA convolution of ", DTypeName(dtype));
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/conv_kernels.cc).\n", "typedef ",
      CudaCType(dtype), " T;\n", kWalk,
      // columns[(c * taps + t) * width + n * out_size + o], width = images * out_size: the
      // element of image n, channel c that tap t reads for output position o (0 in the padding).
      R"(extern "C" __global__ void tensord_conv_im2col(const T* x, T* columns,
    const tensord_conv_dims q, long long channels, long long images, int flip) {
  const long long width = images * q.out_size, n = channels * q.taps * width;
  const long long step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long row = i / width, column = i % width;
    const long long c = row / q.taps, image = column / q.out_size, o = column % q.out_size;
    long long k[3];
    tensord_tap(q, row % q.taps, flip, k);
    const long long at[3] = {o / (q.out[1] * q.out[2]), (o / q.out[2]) % q.out[1], o % q.out[2]};
    long long offset = 0;
    bool inside = true;
    for (int d = 0; d < 3; ++d) {
      const long long e = at[d] * q.s[d] - q.p[d] + k[d] * q.d[d];
      inside = inside && e >= 0 && e < q.in[d];
      offset = offset * q.in[d] + e;
    }
    columns[i] = inside ? x[(image * channels + c) * q.in_size + offset] : T(0);
  }
}
)",
      // The transpose of im2col: each input element sums, tap by tap, the column entries that
      // read it (a tap reads it from at most one output position).
      R"(extern "C" __global__ void tensord_conv_col2im(const T* columns, T* dx,
    const tensord_conv_dims q, long long channels, long long images, int flip) {
  const long long width = images * q.out_size, n = images * channels * q.in_size;
  const long long step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long image = i / (channels * q.in_size), c = (i / q.in_size) % channels;
    const long long e = i % q.in_size;
    const long long at[3] = {e / (q.in[1] * q.in[2]), (e / q.in[2]) % q.in[1], e % q.in[2]};
    T sum = T(0);
    for (long long t = 0; t < q.taps; ++t) {
      long long k[3];
      tensord_tap(q, t, flip, k);
      long long o = 0;
      bool reads = true;
      for (int d = 0; d < 3; ++d) {
        const long long span = at[d] + q.p[d] - k[d] * q.d[d];
        reads = reads && span >= 0 && span % q.s[d] == 0 && span / q.s[d] < q.out[d];
        o = o * q.out[d] + (reads ? span / q.s[d] : 0);
      }
      if (reads) sum += columns[(c * q.taps + t) * width + image * q.out_size + o];
    }
    dx[i] = sum;
  }
}
)",
      // dy (images, channels, size) into tops (channels, images * size).
      R"(extern "C" __global__ void tensord_conv_top_columns(const T* dy, T* tops,
    long long channels, long long images, long long size) {
  const long long width = images * size, n = channels * width;
  const long long step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long c = i / width, image = (i % width) / size, o = i % size;
    tops[i] = dy[(image * channels + c) * size + o];
  }
}
)",
      // tops (rows, images * size) into y (images, channels, size): row c % rows (rows is
      // channels, or 1 for one filter broadcast over the bias), plus the bias (one value or one
      // per channel), then relu as the maximum op computes max(v, 0) (NaN and -0 kept).
      R"(extern "C" __global__ void tensord_conv_output(const T* tops, T* y, const T* bias,
    long long bias_count, long long channels, long long rows, long long images, long long size,
    int relu) {
  const long long width = images * size, n = images * channels * size;
  const long long step = (long long)blockDim.x * gridDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += step) {
    const long long image = i / (channels * size), c = (i / size) % channels, o = i % size;
    T v = tops[(c % rows) * width + image * size + o];
    if (bias) v += bias[bias_count == 1 ? 0 : c];
    if (relu) v = v < T(0) ? T(0) : v;
    y[i] = v;
  }
}
)");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeConvKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceConv(node)) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  TENSORD_ASSIGN_OR_RETURN(ops::ConvAttrs attrs, ops::GetConvAttrs(node));
  TENSORD_ASSIGN_OR_RETURN(std::string source, ConvSource(node.outputs[0]->type.dtype));
  return std::unique_ptr<backends::Kernel>(
      new ConvKernel(node, std::move(attrs), std::move(source), std::move(device)));
}

}  // namespace tensord::cuda
