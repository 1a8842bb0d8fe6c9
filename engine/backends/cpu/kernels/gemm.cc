// CPU kernels of the ops declared in engine/ops/defs/gemm.cc.
#include <algorithm>
#include <cstring>

#include "engine/backends/cpu/blas_matrix.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/elementwise.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// c (m x n, contiguous) = alpha * x y + beta * c.
template <typename T>
void Blas(const Tensor& x, const Tensor& y, T alpha, T beta, T* c) {
  Gemm<T>(AsBlas(x), AsBlas(y), x.shape()[0], y.shape()[1], x.shape()[1], alpha, beta, c);
}

class GemmKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    return DispatchFloat(in[2]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return RunTyped<T>(in, *out[0]);
    });
  }

 private:
  template <typename T>
  absl::Status RunTyped(std::span<const Tensor* const> in, Tensor& c) {
    const Tensor* z = in[0];
    const Tensor& x = *in[2];
    const Tensor& y = *in[3];
    const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
    if (y.shape()[0] != k) {
      return InvalidArgument("gemm: shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", k,
                             " (dim 1) != ", y.shape()[0], " (dim 0)");
    }
    const T alpha = *in[1]->data<T>();
    const T beta = *in[4]->data<T>();
    const Shape product{m, n};
    const Shape* shapes[] = {&z->shape(), &product};
    TENSORD_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(shapes));
    // z may be the output's own Tensor (the executable donated its buffer): it is then updated
    // in place when it has the product's exact layout; otherwise `keep` holds it while the
    // output gets a new buffer.
    Tensor keep;
    bool in_place = false;
    if (z == &c) {
      in_place = c.buffer() && c.buffer().use_count() == 1 && c.shape() == product &&
                 c.is_contiguous() && c.raw() == c.buffer()->data() && shape == product;
      if (!in_place) keep = c, z = &keep;
    }
    if (shape != product) return Broadcasting<T>(*z, x, y, alpha, beta, shape, c);
    if (!in_place) {
      TENSORD_RETURN_IF_ERROR(c.Reshape(x.dtype(), product));
      StridedCopy(z->data<T>(), BroadcastStrides(*z, product), product, c.data<T>());
    }
    T* pc = c.data<T>();
    const int64_t size = m * n;
    if (size == 0) return absl::OkStatus();
    if (k == 0) {  // an empty sum: dot gives zeros
      for (int64_t i = 0; i < size; ++i) pc[i] = beta * pc[i] + alpha * T(0);
      return absl::OkStatus();
    }
    // BLAS ignores C when beta is 0; beta * z must still turn inf and NaN into NaN.
    T blas_beta = beta;
    if (beta == T(0)) {
      for (int64_t i = 0; i < size; ++i) pc[i] *= beta;
      blas_beta = T(1);
    }
    Blas<T>(x, y, alpha, blas_beta, pc);
    return absl::OkStatus();
  }

  // z is larger than the product along a dim where the product has length 1: the product goes
  // to a temporary and the sum is an elementwise pass.
  template <typename T>
  absl::Status Broadcasting(const Tensor& z, const Tensor& x, const Tensor& y, T alpha, T beta,
                            const Shape& shape, Tensor& c) {
    const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
    TENSORD_ASSIGN_OR_RETURN(Tensor d, Tensor::Allocate(x.dtype(), {m, n}));
    if (k == 0 || m * n == 0) {
      std::memset(d.raw(), 0, d.num_bytes());
    } else {
      Blas<T>(x, y, T(1), T(0), d.data<T>());
    }
    TENSORD_RETURN_IF_ERROR(c.Reshape(x.dtype(), shape));
    const Strides sz = BroadcastStrides(z, shape), sd = BroadcastStrides(d, shape);
    const T* pz = z.data<T>();
    const T* pd = d.data<T>();
    T* pc = c.data<T>();
    const int64_t iz = sz.back(), id = sd.back();
    ForEachRow(shape, {sz, sd}, [&](int64_t len, int64_t o, const int64_t* off) {
      for (int64_t i = 0; i < len; ++i)
        pc[o + i] = beta * pz[off[0] + i * iz] + alpha * pd[off[1] + i * id];
    });
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterGemmKernels(backends::KernelTable& k) { k.Add("gemm", backends::Make<GemmKernel>()); }

}  // namespace tensord::cpu
