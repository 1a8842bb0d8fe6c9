// CPU kernels of the sparse products and of the dense <-> stored-entry maps (declared in
// engine/ops/defs/sparse.cc): loops over the compressed layout, major slices split over the
// intra-op threads wherever slices write disjoint outputs.
#include <algorithm>
#include <cstring>

#include "engine/backends/cpu/kernels/register.h"
#include "engine/backends/cpu/kernels/sparse_layout.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// out = A @ y or A.T @ y. Where the output's rows are A's major slices (csr A, or csc A
// transposed) each row gathers its entries' rows of y; otherwise each entry scatters a row of
// y into the output, and the threads split the columns instead.
class DenseDotKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor data = Contiguous(*in[0]), y = Contiguous(*in[4]);
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m,
                             Layout(*in[1], *in[2], *in[3], data.num_elements()));
    const bool gather = m.csr != attrs_->transpose;
    // y's rows are indexed by the entries' minor index (gather) or by their slice (scatter).
    const int64_t y_rows = gather ? m.minor : m.major, out_rows = gather ? m.major : m.minor;
    if (y.shape()[0] != y_rows) {
      return InvalidArgument(op_, ": the dense operand has ", y.shape()[0], " rows; ",
                             attrs_->transpose ? "A.T" : "A", " of shape (", m.rows, ", ", m.cols,
                             ") needs ", y_rows);
    }
    const int64_t k = y.shape()[1];
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(data.dtype(), {out_rows, k}));
    std::memset(result.raw(), 0, result.num_bytes());
    if (k == 0 || m.nnz == 0) return absl::OkStatus();
    return DispatchNumeric(data.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T *v = data.data<T>(), *yv = y.data<T>();
      T* o = result.data<T>();
      if (gather) {
        ForEachSliceRange(m, k, [&](int64_t first, int64_t last) {
          for (int64_t s = first; s < last; ++s) {
            T* row = o + s * k;
            for (int64_t p = m.begin(s); p < m.end(s); ++p) {
              const T a = v[p];
              const T* src = yv + m.indices[p] * k;
              for (int64_t j = 0; j < k; ++j) row[j] += a * src[j];
            }
          }
        });
        return absl::OkStatus();
      }
      const int64_t grain = std::max<int64_t>(16, 65536 / std::max<int64_t>(1, m.nnz));
      runtime::ParallelFor(k, grain, [&](int64_t j0, int64_t j1) {
        for (int64_t s = 0; s < m.major; ++s) {
          const T* src = yv + s * k;
          for (int64_t p = m.begin(s); p < m.end(s); ++p) {
            const T a = v[p];
            T* row = o + m.indices[p] * k;
            for (int64_t j = j0; j < j1; ++j) row[j] += a * src[j];
          }
        }
      });
      return absl::OkStatus();
    });
  }
};

// v[p] = a[row p] . b[col p].
class SampledDotKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m, Layout(*in[0], *in[1], *in[2], -1));
    const Tensor a = Contiguous(*in[3]), b = Contiguous(*in[4]);
    if (a.shape()[0] != m.rows || b.shape()[0] != m.cols || a.shape()[1] != b.shape()[1]) {
      return InvalidArgument(op_, ": a ", runtime::ShapeString(a.shape()), " and b ",
                             runtime::ShapeString(b.shape()), " must be (rows, k) and (cols, k) ",
                             "for the sparse shape (", m.rows, ", ", m.cols, ")");
    }
    const int64_t k = a.shape()[1];
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(a.dtype(), {m.nnz}));
    return DispatchNumeric(a.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T *av = a.data<T>(), *bv = b.data<T>();
      T* o = result.data<T>();
      ForEachEntry(m, k, [&](int64_t s, int64_t p) {
        const T* ar = av + m.Row(s, p) * k;
        const T* br = bv + m.Col(s, p) * k;
        T acc = 0;
        for (int64_t j = 0; j < k; ++j) acc += ar[j] * br[j];
        o[p] = acc;
      });
      return absl::OkStatus();
    });
  }
};

// The dense matrix; a slice writes only its own row (csr) or column (csc).
class DenseFromSparseKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor data = Contiguous(*in[0]);
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m,
                             Layout(*in[1], *in[2], *in[3], data.num_elements()));
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(data.dtype(), {m.rows, m.cols}));
    std::memset(result.raw(), 0, result.num_bytes());
    return DispatchNumeric(data.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* v = data.data<T>();
      T* o = result.data<T>();
      ForEachEntry(m, 1,
                   [&](int64_t s, int64_t p) { o[m.Row(s, p) * m.cols + m.Col(s, p)] += v[p]; });
      return absl::OkStatus();
    });
  }
};

// v[p] = y[row p, col p], y broadcast along its type's broadcastable dims.
class GatherKernel final : public SparseKernel {
 public:
  explicit GatherKernel(const ir::Apply& node)
      : SparseKernel(node), broadcastable_(node.inputs[0]->type.broadcastable) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& y = *in[0];
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m, Layout(*in[1], *in[2], *in[3], -1));
    const int64_t want[2] = {m.rows, m.cols};
    int64_t stride[2];
    for (int d = 0; d < 2; ++d) {
      const bool broadcast = broadcastable_[d] && y.shape()[d] == 1;
      if (y.shape()[d] != want[d] && !broadcast) {
        return InvalidArgument(op_, ": the dense operand ", runtime::ShapeString(y.shape()),
                               " does not match the sparse shape (", m.rows, ", ", m.cols, ")");
      }
      stride[d] = broadcast ? 0 : y.strides()[d];
    }
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(y.dtype(), {m.nnz}));
    return DispatchNumeric(y.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* yv = y.data<T>();
      T* o = result.data<T>();
      ForEachEntry(m, 1, [&](int64_t s, int64_t p) {
        o[p] = yv[m.Row(s, p) * stride[0] + m.Col(s, p) * stride[1]];
      });
      return absl::OkStatus();
    });
  }

 private:
  std::vector<bool> broadcastable_;
};

}  // namespace

void RegisterSparseKernels(backends::KernelTable& k) {
  k.Add("sparse_dense_dot", backends::Make<DenseDotKernel>());
  k.Add("sparse_sampled_dot", backends::Make<SampledDotKernel>());
  k.Add("dense_from_sparse", backends::Make<DenseFromSparseKernel>());
  k.Add("sparse_gather", backends::Make<GatherKernel>());
}

}  // namespace tensord::cpu
