// CPU kernels of the ops declared in engine/ops/defs/composite.cc.
#include "engine/ops/defs/composite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

#include "engine/backends/cpu/blas_matrix.h"
#include "engine/backends/cpu/composite_kernel.h"
#include "engine/backends/cpu/kernels/register.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run
using runtime::Shape;
using runtime::Tensor;

// dot_composite: the product's blocks of rows are computed by Gemm, each then overwritten by the
// program on its own thread, right after; the other inputs are read as the same rows (or whole,
// where they broadcast along the rows). Where they broadcast the product itself to a larger
// shape at run time (a length-1 dim), the product goes to a temporary and the program runs as a
// composite's, as the unfused graph would.
class DotCompositeKernel final : public Kernel {
 public:
  explicit DotCompositeKernel(composite::Program p)
      : dtype_(p.dtype), program_(MakeCompositeEpilogue(std::move(p))) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (dtype_ == DType::kFloat32) return RunTyped<float>(in, *out[0]);
    return RunTyped<double>(in, *out[0]);
  }

 private:
  template <typename T>
  absl::Status RunTyped(std::span<const Tensor* const> in, Tensor& c) {
    const Tensor& x = *in[0];
    const Tensor& y = *in[1];
    const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
    if (y.shape()[0] != k) {
      return InvalidArgument("dot_composite: shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", k,
                             " (dim 1) != ", y.shape()[0], " (dim 0)");
    }
    for (const Tensor* t : in) {
      if (t == &c) {
        return InvalidArgument("dot_composite cannot write its result into an input's buffer");
      }
    }
    const Shape product{m, n};
    std::vector<const Shape*> shapes = {&product};
    for (size_t i = 2; i < in.size(); ++i) shapes.push_back(&in[i]->shape());
    TENSORD_ASSIGN_OR_RETURN(Shape shape, BroadcastShapes(shapes));  // names a mismatch
    if (shape != product) return Unfused<T>(in, product, c);
    TENSORD_RETURN_IF_ERROR(c.Reshape(dtype_, product));
    std::mutex mu;
    absl::Status first_error;
    const RowBlockEpilogue epilogue = [&](int64_t row0, int64_t rows) {
      Tensor block = c.StridedView({rows, n}, c.strides(), row0 * n);
      std::vector<Tensor> rows_of(in.size() - 2);
      std::vector<const Tensor*> args = {&block};
      for (size_t i = 2; i < in.size(); ++i) {
        const Tensor& e = *in[i];
        const bool per_row = e.ndim() == 2 && e.shape()[0] == m && m != 1;
        rows_of[i - 2] =
            per_row ? e.StridedView({rows, e.shape()[1]}, e.strides(), row0 * e.strides()[0]) : e;
        args.push_back(&rows_of[i - 2]);
      }
      absl::Status s = program_->RunInPlace(args, block);
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = std::move(s);
      }
    };
    Product<T>(x, y, c.data<T>(), epilogue);
    return first_error;
  }

  // out (m x n, contiguous) = dot(x, y), zeros for an empty sum; then the epilogue, if any.
  template <typename T>
  static void Product(const Tensor& x, const Tensor& y, T* out,
                      const RowBlockEpilogue& epilogue = {}) {
    const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
    if (m * n == 0) return;
    if (k > 0) {
      Gemm<T>(AsBlas(x), AsBlas(y), m, n, k, T(1), T(0), out, epilogue);
      return;
    }
    std::fill_n(out, m * n, T(0));
    if (epilogue) epilogue(0, m);
  }

  template <typename T>
  absl::Status Unfused(std::span<const Tensor* const> in, const Shape& product, Tensor& c) {
    TENSORD_ASSIGN_OR_RETURN(Tensor p, Tensor::Allocate(dtype_, product));
    Product<T>(*in[0], *in[1], p.data<T>());
    std::vector<const Tensor*> args = {&p};
    for (size_t i = 2; i < in.size(); ++i) args.push_back(in[i]);
    Tensor* outs[] = {&c};
    return program_->Run(args, outs);
  }

  DType dtype_;
  std::unique_ptr<CompositeEpilogue> program_;
};

}  // namespace

void RegisterCompositeKernels(backends::KernelTable& k) {
  k.Add("composite", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
    return MakeCompositeKernel(std::move(p));
  });
  k.Add("dot_composite", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
    return std::unique_ptr<Kernel>(new DotCompositeKernel(std::move(p)));
  });
}

}  // namespace tensord::cpu
