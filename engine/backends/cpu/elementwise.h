// Broadcasting elementwise kernels. Inputs arrive already cast to the output dtype (the
// compiler inserts casts), so each kernel is instantiated per dtype only.
#pragma once

#include <memory>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/op_def.h"

namespace tensord::cpu {

// Calls body(tag) for dtype `d` among the types Op supports. `if constexpr` keeps float-only
// ops from being instantiated for integer types.
template <typename Op, typename F>
absl::Status DispatchFor(DType d, F&& body) {
  if constexpr (Op::kFloatOnly) {
    return DispatchFloat(d, body);
  } else {
    return DispatchAll(d, body);
  }
}

// Op is a struct with `template <class T> static T Apply(T a, T b)` (binary) or
// `template <class T> static T Apply(T a)` (unary) and `static constexpr bool kFloatOnly`.
template <typename Op>
class UnaryKernel final : public ops::Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), x.shape()));
    auto body = [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = out[0]->data<T>();
      if (x.is_contiguous()) {  // one flat loop, no row walk (small tensors in scan steps)
        for (int64_t i = 0, n = x.num_elements(); i < n; ++i)
          dst[i] = Op::template Apply<T>(src[i]);
        return absl::OkStatus();
      }
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      ForEachRow(x.shape(), {x.strides()}, [&](int64_t n, int64_t o, const int64_t* off) {
        const T* s = src + off[0];
        T* d = dst + o;
        if (step == 1) {
          for (int64_t i = 0; i < n; ++i) d[i] = Op::template Apply<T>(s[i]);
        } else {
          for (int64_t i = 0; i < n; ++i) d[i] = Op::template Apply<T>(s[i * step]);
        }
      });
      return absl::OkStatus();
    };
    return DispatchFor<Op>(x.dtype(), body);
  }
};

// n-ary left fold: out = ((in0 op in1) op in2) ..., with NumPy broadcasting.
template <typename Op>
class FoldKernel final : public ops::Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    if (in.size() == 2 && in[0]->shape() == in[1]->shape() && in[0]->is_contiguous() &&
        in[1]->is_contiguous()) {
      return RunSameShape(*in[0], *in[1], *out[0]);
    }
    std::vector<const Shape*> shapes;
    for (const auto* t : in) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(shapes));
    runtime::Tensor& y = *out[0];
    TENSORD_RETURN_IF_ERROR(y.Reshape(in[0]->dtype(), shape));
    auto body = [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = y.data<T>();
      Combine<T>(in[0]->data<T>(), BroadcastStrides(*in[0], shape), in[1]->data<T>(),
                 BroadcastStrides(*in[1], shape), shape, dst);
      for (size_t k = 2; k < in.size(); ++k) {
        Combine<T>(dst, runtime::ContiguousStrides(shape), in[k]->data<T>(),
                   BroadcastStrides(*in[k], shape), shape, dst);
      }
      return absl::OkStatus();
    };
    return DispatchFor<Op>(y.dtype(), body);
  }

 private:
  // The common case without broadcasting: one flat loop and no stride vectors, which matters
  // for the small tensors of scan steps, where the walk costs more than the arithmetic.
  static absl::Status RunSameShape(const runtime::Tensor& a, const runtime::Tensor& b,
                                   runtime::Tensor& y) {
    TENSORD_RETURN_IF_ERROR(y.Reshape(a.dtype(), a.shape()));
    auto body = [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* pa = a.data<T>();
      const T* pb = b.data<T>();
      T* d = y.data<T>();
      for (int64_t i = 0, n = y.num_elements(); i < n; ++i)
        d[i] = Op::template Apply<T>(pa[i], pb[i]);
      return absl::OkStatus();
    };
    return DispatchFor<Op>(y.dtype(), body);
  }

  template <typename T>
  static void Combine(const T* a, const Strides& sa, const T* b, const Strides& sb,
                      const Shape& shape, T* dst) {
    const int64_t ia = sa.empty() ? 0 : sa.back();
    const int64_t ib = sb.empty() ? 0 : sb.back();
    ForEachRow(shape, {sa, sb}, [&](int64_t n, int64_t o, const int64_t* off) {
      const T* pa = a + off[0];
      const T* pb = b + off[1];
      T* d = dst + o;
      if (ia == 1 && ib == 1) {  // the common contiguous case, kept simple for vectorizers
        for (int64_t i = 0; i < n; ++i) d[i] = Op::template Apply<T>(pa[i], pb[i]);
      } else {
        for (int64_t i = 0; i < n; ++i) d[i] = Op::template Apply<T>(pa[i * ia], pb[i * ib]);
      }
    });
  }
};

template <typename K>
ops::MakeKernelFn MakeKernel() {
  return [](const ir::Apply&) -> absl::StatusOr<std::unique_ptr<ops::Kernel>> {
    return std::unique_ptr<ops::Kernel>(new K());
  };
}

}  // namespace tensord::cpu
