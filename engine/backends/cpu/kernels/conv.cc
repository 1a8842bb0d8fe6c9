// CPU kernels of the ops declared in engine/ops/defs/conv.cc: float32 on oneDNN, float64 as
// im2col + OpenBLAS GEMM (oneDNN has no float64 convolution). conv_fused is the forward
// convolution with its epilogue: for float32 OneDnnConv adds the bias and applies relu (as it
// copies the result out of oneDNN's layout), for float64 loops after the GEMM.
#include <algorithm>

#include "engine/backends/cpu/conv_gemm.h"
#include "engine/backends/cpu/conv_onednn.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/backends/cpu/relu_in_place.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run
using Kind = OneDnnConv::Kind;

// `w` read with its spatial dims reversed: what turns a convolution into the cross-correlation
// the libraries compute.
Tensor FlippedView(const Tensor& w) {
  Strides strides = w.strides();
  int64_t offset = 0;
  for (int d = 2; d < w.ndim(); ++d) {
    offset += (w.shape()[d] - 1) * strides[d];
    strides[d] = -strides[d];
  }
  return w.StridedView(w.shape(), strides, offset);
}

// `w` flipped into a copy kept per thread (a warm run allocates nothing); one per run at most.
template <typename T>
const T* FlippedCopy(const Tensor& w) {
  thread_local std::vector<T> copy;
  copy.resize(w.num_elements());
  const Tensor view = FlippedView(w);
  StridedCopy(view.data<T>(), view.strides(), view.shape(), copy.data());
  return copy.data();
}

// Flips filters (out_channels, channels/groups, *taps) in place: reversing every dim of a
// C-order block of taps is reversing the block.
template <typename T>
void FlipInPlace(T* w, int64_t size, int64_t taps) {
  for (int64_t i = 0; i < size; i += taps) std::reverse(w + i, w + i + taps);
}

Kind KindOf(const std::string& op) {
  if (op == "conv" || op == "conv_fused") return Kind::kForward;
  return op == "conv_grad_inputs" ? Kind::kBackwardData : Kind::kBackwardWeights;
}

// conv_fused's bias as out_channels contiguous values: the tensor itself, or its one value
// repeated (a bias whose channel dim has length 1 broadcasts), kept per thread.
template <typename T>
absl::StatusOr<const T*> BiasValues(const Tensor& bias, DType dtype, int64_t channels,
                                    Tensor& contiguous) {
  TENSORD_RETURN_IF_ERROR(CheckConvBias(bias, dtype, channels));
  contiguous = Contiguous(bias);
  if (bias.num_elements() == channels) return contiguous.data<T>();
  thread_local std::vector<T> repeated;
  repeated.assign(channels, *contiguous.data<T>());
  return repeated.data();
}

// out (batch, channels, plane) += bias per channel: the float64 path's bias (oneDNN adds it for
// float32).
template <typename T>
void AddBias(T* out, const T* bias, int64_t batch, int64_t channels, int64_t plane) {
  runtime::ParallelFor(batch * channels, std::max<int64_t>(1, 32768 / std::max<int64_t>(plane, 1)),
                       [&](int64_t first, int64_t last) {
                         for (int64_t p = first; p < last; ++p) {
                           T* row = out + p * plane;
                           const T b = bias[p % channels];
                           for (int64_t i = 0; i < plane; ++i) row[i] += b;
                         }
                       });
}

class ConvKernel final : public Kernel {
 public:
  explicit ConvKernel(const ir::Apply& node)
      : op_(node.op),
        kind_(KindOf(node.op)),
        attrs_(GetConvAttrs(node)),
        bias_(node.op == "conv_fused"),
        relu_(attrs_.ok() && attrs_->relu),  // conv_fused's attribute
        onednn_(kind_, bias_, relu_) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    const Tensor& a = *in[0];
    TENSORD_ASSIGN_OR_RETURN(ConvGeometry g, OperandGeometry(*attrs_, op_, in));
    // One filter and a bias of several channels: NumPy broadcasts the one output channel over
    // the bias's, as the add this node replaced did, which is the filter repeated once per
    // bias channel.
    Tensor repeated;
    if (bias_ && g.out_channels == 1 && in[2]->num_elements() > 1) {
      Shape filters = in[1]->shape();
      filters[0] = in[2]->num_elements();
      TENSORD_ASSIGN_OR_RETURN(repeated, Tensor::Allocate(in[1]->dtype(), filters));
      const Tensor one = Contiguous(*in[1]);
      for (int64_t c = 0; c < filters[0]; ++c)
        std::memcpy(static_cast<char*>(repeated.raw()) + c * one.num_bytes(), one.raw(),
                    one.num_bytes());
      g.out_channels = filters[0];
    }
    const Tensor& b = repeated.buffer() ? repeated : *in[1];
    const Shape shape = kind_ == Kind::kForward        ? g.OutputShape()
                        : kind_ == Kind::kBackwardData ? g.InputShape()
                                                       : g.FilterShape();
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(a.dtype(), shape));
    if (result.num_elements() == 0) return absl::OkStatus();
    const bool empty_sum = a.num_elements() == 0 || b.num_elements() == 0;
    if (empty_sum) std::memset(result.raw(), 0, result.num_bytes());
    if (empty_sum && !bias_) return absl::OkStatus();
    // The filters operand (forward: b, backward-data: a) is flipped going in; the filter
    // gradient is flipped coming out.
    const bool flip = attrs_->flip;
    return DispatchFloat(a.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* o = result.data<T>();
      const int64_t plane = runtime::NumElements(Shape(g.out.begin(), g.out.end()));
      if (empty_sum) {  // no product: the bias (and relu) over zeros
        Tensor cbias;
        TENSORD_ASSIGN_OR_RETURN(const T* bias,
                                 BiasValues<T>(*in[2], a.dtype(), g.out_channels, cbias));
        AddBias(o, bias, g.batch, g.out_channels, plane);
        if (relu_) ReluInPlace(o, result.num_elements());
        return absl::OkStatus();
      }
      Tensor ca, cb;  // contiguous operands (the inputs themselves when they already are)
      const T* pa = flip && kind_ == Kind::kBackwardData ? FlippedCopy<T>(a)
                                                         : (ca = Contiguous(a)).template data<T>();
      const T* pb = flip && kind_ == Kind::kForward ? FlippedCopy<T>(b)
                                                    : (cb = Contiguous(b)).template data<T>();
      Tensor cbias;
      const T* bias = nullptr;
      if (bias_) {
        TENSORD_ASSIGN_OR_RETURN(bias, BiasValues<T>(*in[2], a.dtype(), g.out_channels, cbias));
      }
      TENSORD_RETURN_IF_ERROR(Compute<T>(g, pa, pb, o, bias));
      if (relu_ && !std::is_same_v<T, float>)
        ReluInPlace(o, result.num_elements());  // float32: OneDnnConv applied it
      if (flip && kind_ == Kind::kBackwardWeights) {
        FlipInPlace(result.data<T>(), result.num_elements(),
                    runtime::NumElements(Shape(shape.begin() + 2, shape.end())));
      }
      return absl::OkStatus();
    });
  }

 private:
  template <typename T>
  absl::Status Compute(const ConvGeometry& g, const T* a, const T* b, T* out, const T* bias) {
    if constexpr (std::is_same_v<T, float>) {
      // One input channel (a grayscale first layer): oneDNN's filter gradient pads it to a
      // block of 8 and took 22-41 ms on LeNet's first layer (500x1x28x28, 20 5x5 filters)
      // where im2col + GEMM over blocks of images took 12-15 ms; from 3 channels oneDNN wins.
      if (kind_ == Kind::kBackwardWeights && g.channels == 1) {
        return ConvBackwardWeightsGemm(g, a, b, out);
      }
      return onednn_.Run(g, a, b, out, bias);
    } else {
      switch (kind_) {
        case Kind::kForward:
          TENSORD_RETURN_IF_ERROR(ConvForwardGemm(g, a, b, out));
          if (bias_) {
            AddBias(out, bias, g.batch, g.out_channels,
                    runtime::NumElements(Shape(g.out.begin(), g.out.end())));
          }
          return absl::OkStatus();
        case Kind::kBackwardData:
          return ConvBackwardDataGemm(g, a, b, out);
        case Kind::kBackwardWeights:
          return ConvBackwardWeightsGemm(g, a, b, out);
      }
      return absl::OkStatus();
    }
  }

  const std::string op_;
  const Kind kind_;
  const absl::StatusOr<ConvAttrs> attrs_;
  const bool bias_, relu_;  // conv_fused's epilogue
  OneDnnConv onednn_;
};

}  // namespace

void RegisterConvKernels(backends::KernelTable& k) {
  for (const char* op : {"conv", "conv_fused", "conv_grad_inputs", "conv_grad_weights"})
    k.Add(op, backends::Make<ConvKernel>());
}

}  // namespace tensord::cpu
