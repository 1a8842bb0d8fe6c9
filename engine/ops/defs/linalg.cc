// dot for vectors and matrices. Floats go to BLAS (OpenBLAS' sgemm/dgemm/gemv/dot); integer
// dtypes, which BLAS lacks, use a cache-friendly i-k-j loop.
#include <cblas.h>

#include <cstring>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

absl::StatusOr<std::vector<ir::Type>> InferDot(const ir::Apply& node) {
  const ir::Type& a = node.inputs[0]->type;
  const ir::Type& b = node.inputs[1]->type;
  if (a.ndim() < 1 || a.ndim() > 2 || b.ndim() < 1 || b.ndim() > 2) {
    return InvalidArgument("dot takes vectors or matrices, got ", ir::TypeString(a), " and ",
                           ir::TypeString(b));
  }
  ir::Type out{Promote(a.dtype, b.dtype), {}};
  if (a.ndim() == 2) out.broadcastable.push_back(a.broadcastable[0]);
  if (b.ndim() == 2) out.broadcastable.push_back(b.broadcastable[1]);
  return std::vector<ir::Type>{out};
}

// A matrix operand as BLAS wants it: a pointer, a leading dimension and whether it is stored
// transposed. Views with unit stride along either axis go to BLAS as they are; anything else
// (negative or gapped strides) is copied to contiguous storage first.
struct BlasMatrix {
  runtime::Tensor storage;  // keeps a copy alive when one was needed
  bool transposed = false;
  int64_t ld = 1;
};

// `t` seen as a rows x cols matrix (a vector is 1 x k as the left operand, k x 1 as the right).
BlasMatrix AsBlas(const runtime::Tensor& t, int64_t rows, int64_t cols) {
  const bool is_row_vector = t.ndim() == 1 && rows == 1;
  const int64_t sr = t.ndim() == 2 ? t.strides()[0] : (is_row_vector ? 0 : t.strides()[0]);
  const int64_t sc = t.ndim() == 2 ? t.strides()[1] : (is_row_vector ? t.strides()[0] : 0);
  BlasMatrix m{t};
  // Strides of length-1 axes never matter, so they do not disqualify a layout.
  if ((cols == 1 || sc == 1) && (rows == 1 || sr >= cols)) {
    m.ld = rows == 1 ? std::max<int64_t>(cols, 1) : sr;
    return m;
  }
  if ((rows == 1 || sr == 1) && (cols == 1 || sc >= rows)) {
    m.transposed = true;
    m.ld = cols == 1 ? std::max<int64_t>(rows, 1) : sc;
    return m;
  }
  m.storage = cpu::Contiguous(t);
  m.ld = std::max<int64_t>(cols, 1);
  return m;
}

template <typename T>
void Gemm(int64_t m, int64_t n, int64_t k, const BlasMatrix& a, const BlasMatrix& b, T* c) {
  const CBLAS_TRANSPOSE ta = a.transposed ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = b.transposed ? CblasTrans : CblasNoTrans;
  const int64_t ldc = std::max<int64_t>(n, 1);
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.f, a.storage.data<float>(), a.ld,
                b.storage.data<float>(), b.ld, 0.f, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1., a.storage.data<double>(), a.ld,
                b.storage.data<double>(), b.ld, 0., c, ldc);
  }
}

// Integer dtypes have no BLAS: a cache-friendly i-k-j loop over contiguous copies.
template <typename T>
void IntegerGemm(int64_t m, int64_t n, int64_t k, const runtime::Tensor& at,
                 const runtime::Tensor& bt, T* c) {
  runtime::Tensor ac = cpu::Contiguous(at), bc = cpu::Contiguous(bt);
  const T* a = ac.data<T>();
  const T* b = bc.data<T>();
  for (int64_t i = 0; i < m * n; ++i) c[i] = T{};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const T aip = a[i * k + p];
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] = static_cast<T>(c[i * n + j] + aip * b[p * n + j]);
    }
}

class DotKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& a = *in[0];
    const runtime::Tensor& b = *in[1];
    // View every case as (m x k) @ (k x n); vectors are 1 x k or k x 1.
    const int64_t m = a.ndim() == 2 ? a.shape()[0] : 1;
    const int64_t k = a.shape()[a.ndim() - 1];
    const int64_t kb = b.shape()[0];
    const int64_t n = b.ndim() == 2 ? b.shape()[1] : 1;
    if (k != kb) {
      return InvalidArgument("dot: shapes ", runtime::ShapeString(a.shape()), " and ",
                             runtime::ShapeString(b.shape()), " not aligned: ", k, " (dim ",
                             a.ndim() - 1, ") != ", kb, " (dim 0)");
    }
    runtime::Shape shape;
    if (a.ndim() == 2) shape.push_back(m);
    if (b.ndim() == 2) shape.push_back(n);
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(a.dtype(), shape));
    return cpu::DispatchAll(a.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* c = out[0]->data<T>();
      if (k == 0 || m == 0 || n == 0) {
        std::memset(static_cast<void*>(c), 0, out[0]->num_bytes());
      } else if constexpr (std::is_floating_point_v<T>) {
        Gemm<T>(m, n, k, AsBlas(a, m, k), AsBlas(b, k, n), c);
      } else {
        IntegerGemm<T>(m, n, k, a, b, c);
      }
      return absl::OkStatus();
    });
  }
};

}  // namespace

void RegisterLinalg(Registry& r) {
  OpDef d;
  d.name = "dot";
  d.min_inputs = d.max_inputs = 2;
  d.doc = "dot(a, b) for vectors and matrices (numpy.dot)";
  d.infer_types = InferDot;
  d.input_dtypes = AllInputsAsOutput;
  d.make_cpu_kernel = [](const ir::Apply&) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    return std::unique_ptr<Kernel>(new DotKernel());
  };
  r.Add(std::move(d));
}

}  // namespace tensord::ops
