// CPU kernels of the sparse ops that make or compare patterns (declared in
// engine/ops/defs/sparse.cc): from a dense matrix, values at another pattern, union, dropping
// stored zeros, and the other format's pattern. Index outputs are int32, as scipy's.
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "engine/backends/cpu/kernels/register.h"
#include "engine/backends/cpu/kernels/sparse_layout.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// NumPy's nonzero: NaN is stored, -0.0 is not.
template <typename T>
bool IsStored(T v) {
  return !(v == T(0));
}

class FromDenseKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    const Tensor x = Contiguous(*in[0]);
    const int64_t rows = x.shape()[0], cols = x.shape()[1];
    const bool csr = attrs_->format == SparseFormat::kCsr;
    const int64_t major = csr ? rows : cols, minor = csr ? cols : rows;
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(minor, op_.c_str(), csr ? "columns" : "rows"));
    return DispatchNumeric(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* xv = x.data<T>();
      // Element (slice s, position i) of the dense matrix.
      auto at = [&](int64_t s, int64_t i) { return csr ? xv[s * cols + i] : xv[i * cols + s]; };
      TENSORD_ASSIGN_OR_RETURN(int32_t * indptr, StartIndptr(*out[2], major));
      const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, minor));
      runtime::ParallelFor(major, grain, [&](int64_t first, int64_t last) {
        for (int64_t s = first; s < last; ++s) {
          int64_t count = 0;  // at most minor, which fits int32
          for (int64_t i = 0; i < minor; ++i) count += IsStored(at(s, i));
          indptr[s + 1] = static_cast<int32_t>(count);
        }
      });
      TENSORD_ASSIGN_OR_RETURN(int64_t nnz, FinishIndptr(indptr, major, op_.c_str()));
      TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), {nnz}));
      TENSORD_RETURN_IF_ERROR(out[1]->Reshape(DType::kInt32, {nnz}));
      T* data = out[0]->data<T>();
      int32_t* indices = out[1]->data<int32_t>();
      runtime::ParallelFor(major, grain, [&](int64_t first, int64_t last) {
        for (int64_t s = first; s < last; ++s) {
          int64_t p = indptr[s];
          for (int64_t i = 0; i < minor; ++i) {
            const T v = at(s, i);
            if (!IsStored(v)) continue;
            data[p] = v;
            indices[p++] = static_cast<int32_t>(i);
          }
        }
      });
      return absl::OkStatus();
    });
  }
};

// out[q] = the sum of the source entries at q's position. Each source slice is sorted (a copy)
// and every `at` entry binary-searches it: no buffer of the minor size, so a matrix with
// billions of columns costs only its entries.
class ValuesAtKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor data = Contiguous(*in[0]);
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout src,
                             Layout(*in[1], *in[2], *in[5], data.num_elements()));
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout at, Layout(*in[3], *in[4], *in[5], -1));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(data.dtype(), {at.nnz}));
    return DispatchNumeric(data.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* v = data.data<T>();
      T* o = out[0]->data<T>();
      ForEachSliceRange(src, 8, [&](int64_t first, int64_t last) {
        std::vector<std::pair<int64_t, T>> entries;
        for (int64_t s = first; s < last; ++s) {
          entries.clear();
          for (int64_t p = src.begin(s); p < src.end(s); ++p)
            entries.emplace_back(src.indices[p], v[p]);
          std::sort(entries.begin(), entries.end(),
                    [](const auto& a, const auto& b) { return a.first < b.first; });
          size_t merged = 0;  // one entry per position, duplicates added
          for (size_t e = 0; e < entries.size(); ++e) {
            if (merged > 0 && entries[merged - 1].first == entries[e].first) {
              entries[merged - 1].second += entries[e].second;
            } else {
              entries[merged++] = entries[e];
            }
          }
          entries.resize(merged);
          for (int64_t q = at.begin(s); q < at.end(s); ++q) {
            auto it =
                std::lower_bound(entries.begin(), entries.end(), at.indices[q],
                                 [](const auto& entry, int64_t i) { return entry.first < i; });
            o[q] = it != entries.end() && it->first == at.indices[q] ? it->second : T(0);
          }
        }
      });
      return absl::OkStatus();
    });
  }
};

class UnionKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout a, Layout(*in[0], *in[1], *in[4], -1));
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout b, Layout(*in[2], *in[3], *in[4], -1));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(a.minor, op_.c_str(), a.csr ? "columns" : "rows"));
    // The sorted, distinct positions of slice s of either pattern, into `merged`.
    auto slice_union = [&](int64_t s, std::vector<int64_t>& merged) {
      merged.assign(a.indices + a.begin(s), a.indices + a.end(s));
      merged.insert(merged.end(), b.indices + b.begin(s), b.indices + b.end(s));
      std::sort(merged.begin(), merged.end());
      merged.erase(std::unique(merged.begin(), merged.end()), merged.end());
    };
    TENSORD_ASSIGN_OR_RETURN(int32_t * indptr, StartIndptr(*out[1], a.major));
    ForEachSliceRange(a, 8, [&](int64_t first, int64_t last) {
      std::vector<int64_t> merged;
      for (int64_t s = first; s < last; ++s) {
        slice_union(s, merged);
        indptr[s + 1] = static_cast<int32_t>(merged.size());  // distinct, so at most minor
      }
    });
    TENSORD_ASSIGN_OR_RETURN(int64_t nnz, FinishIndptr(indptr, a.major, op_.c_str()));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt32, {nnz}));
    int32_t* indices = out[0]->data<int32_t>();
    ForEachSliceRange(a, 8, [&](int64_t first, int64_t last) {
      std::vector<int64_t> merged;
      for (int64_t s = first; s < last; ++s) {
        slice_union(s, merged);
        std::copy(merged.begin(), merged.end(), indices + indptr[s]);
      }
    });
    return absl::OkStatus();
  }
};

class EliminateZerosKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor data = Contiguous(*in[0]);
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m,
                             Layout(*in[1], *in[2], *in[3], data.num_elements()));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.minor, op_.c_str(), m.csr ? "columns" : "rows"));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.nnz, op_.c_str(), "stored entries"));
    return DispatchNumeric(data.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* v = data.data<T>();
      TENSORD_ASSIGN_OR_RETURN(int32_t * indptr, StartIndptr(*out[2], m.major));
      for (int64_t s = 0; s < m.major; ++s)
        for (int64_t p = m.begin(s); p < m.end(s); ++p) indptr[s + 1] += IsStored(v[p]);
      TENSORD_ASSIGN_OR_RETURN(int64_t nnz, FinishIndptr(indptr, m.major, op_.c_str()));
      TENSORD_RETURN_IF_ERROR(out[0]->Reshape(data.dtype(), {nnz}));
      TENSORD_RETURN_IF_ERROR(out[1]->Reshape(DType::kInt32, {nnz}));
      T* kept = out[0]->data<T>();
      int32_t* indices = out[1]->data<int32_t>();
      int64_t q = 0;
      for (int64_t p = 0; p < m.nnz; ++p) {
        if (!IsStored(v[p])) continue;
        kept[q] = v[p];
        indices[q++] = static_cast<int32_t>(m.indices[p]);
      }
      return absl::OkStatus();
    });
  }
};

// A counting sort by minor index: stable, so each new slice lists its entries in the order of
// their old slices (sorted indices when read back).
class TransposeStructureKernel final : public SparseKernel {
 public:
  using SparseKernel::SparseKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m, Layout(*in[0], *in[1], *in[2], -1));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.major, op_.c_str(), m.csr ? "rows" : "columns"));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.nnz, op_.c_str(), "stored entries"));
    TENSORD_ASSIGN_OR_RETURN(int32_t * indptr, StartIndptr(*out[1], m.minor));
    for (int64_t p = 0; p < m.nnz; ++p) ++indptr[m.indices[p] + 1];
    TENSORD_ASSIGN_OR_RETURN(int64_t nnz, FinishIndptr(indptr, m.minor, op_.c_str()));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt32, {nnz}));
    TENSORD_RETURN_IF_ERROR(out[2]->Reshape(DType::kInt64, {nnz}));
    int32_t* indices = out[0]->data<int32_t>();
    int64_t* perm = out[2]->data<int64_t>();
    // indptr[i + 1] is where new slice i ends: fill each slice from its end, walking the entries
    // backwards (so each slice keeps the old slices' order), which leaves indptr[i + 1] at the
    // slice's start; shifting down by one entry restores the offsets. No scratch array.
    for (int64_t s = m.major - 1; s >= 0; --s) {
      for (int64_t p = m.end(s) - 1; p >= m.begin(s); --p) {
        const int64_t slot = --indptr[m.indices[p] + 1];
        indices[slot] = static_cast<int32_t>(s);
        perm[slot] = p;
      }
    }
    for (int64_t i = 0; i < m.minor; ++i) indptr[i] = indptr[i + 1];
    indptr[m.minor] = static_cast<int32_t>(nnz);
    return absl::OkStatus();
  }
};

class SameShapeKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    int64_t a[2], b[2];
    TENSORD_RETURN_IF_ERROR(ReadSparseShape(*in[0], "sparse_same_shape", &a[0], &a[1]));
    TENSORD_RETURN_IF_ERROR(ReadSparseShape(*in[1], "sparse_same_shape", &b[0], &b[1]));
    if (a[0] != b[0] || a[1] != b[1]) {
      return InvalidArgument("sparse_same_shape: the sparse operands' shapes (", a[0], ", ", a[1],
                             ") and (", b[0], ", ", b[1], ") differ");
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt64, {2}));
    std::copy(a, a + 2, out[0]->data<int64_t>());
    return absl::OkStatus();
  }
};

}  // namespace

void RegisterSparseStructureKernels(backends::KernelTable& k) {
  k.Add("sparse_from_dense", backends::Make<FromDenseKernel>());
  k.Add("sparse_values_at", backends::Make<ValuesAtKernel>());
  k.Add("sparse_union", backends::Make<UnionKernel>());
  k.Add("sparse_eliminate_zeros", backends::Make<EliminateZerosKernel>());
  k.Add("sparse_transpose_structure", backends::Make<TransposeStructureKernel>());
  k.Add("sparse_same_shape", backends::Make<SameShapeKernel>());
}

}  // namespace tensord::cpu
