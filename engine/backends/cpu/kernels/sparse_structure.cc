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

// Sizes an int32 indptr of `slices` + 1 entries from per-slice counts (slice s's count in
// counts[s]); returns the total after checking it fits.
absl::StatusOr<int64_t> WriteIndptr(const std::vector<int64_t>& counts, Tensor& indptr,
                                    const char* op) {
  TENSORD_RETURN_IF_ERROR(indptr.Reshape(DType::kInt32, {static_cast<int64_t>(counts.size()) + 1}));
  int64_t total = 0;
  int32_t* out = indptr.data<int32_t>();
  out[0] = 0;
  for (size_t s = 0; s < counts.size(); ++s) {
    total += counts[s];
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(total, op, "stored entries"));
    out[s + 1] = static_cast<int32_t>(total);
  }
  return total;
}

class StructureKernel : public Kernel {
 public:
  explicit StructureKernel(const ir::Apply& node) : op_(node.op), attrs_(GetSparseAttrs(node)) {}

 protected:
  absl::StatusOr<CompressedLayout> Layout(const Tensor& indices, const Tensor& indptr,
                                          const Tensor& shape, int64_t data_size) const {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    return ReadLayout(indices, indptr, shape, attrs_->format, data_size, op_.c_str());
  }

  std::string op_;
  absl::StatusOr<SparseAttrs> attrs_;
};

class FromDenseKernel final : public StructureKernel {
 public:
  using StructureKernel::StructureKernel;

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
      std::vector<int64_t> counts(major, 0);
      const int64_t grain = std::max<int64_t>(1, 65536 / std::max<int64_t>(1, minor));
      runtime::ParallelFor(major, grain, [&](int64_t first, int64_t last) {
        for (int64_t s = first; s < last; ++s)
          for (int64_t i = 0; i < minor; ++i) counts[s] += IsStored(at(s, i));
      });
      TENSORD_ASSIGN_OR_RETURN(int64_t nnz, WriteIndptr(counts, *out[2], op_.c_str()));
      TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), {nnz}));
      TENSORD_RETURN_IF_ERROR(out[1]->Reshape(DType::kInt32, {nnz}));
      T* data = out[0]->data<T>();
      int32_t* indices = out[1]->data<int32_t>();
      const int32_t* indptr = out[2]->data<int32_t>();
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
class ValuesAtKernel final : public StructureKernel {
 public:
  using StructureKernel::StructureKernel;

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
          for (int64_t q = at.begin(s); q < at.end(s); ++q) {
            auto it =
                std::lower_bound(entries.begin(), entries.begin() + merged, at.indices[q],
                                 [](const auto& entry, int64_t i) { return entry.first < i; });
            o[q] = it != entries.begin() + merged && it->first == at.indices[q] ? it->second : T(0);
          }
        }
      });
      return absl::OkStatus();
    });
  }
};

class UnionKernel final : public StructureKernel {
 public:
  using StructureKernel::StructureKernel;

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
    std::vector<int64_t> counts(a.major, 0);
    ForEachSliceRange(a, 8, [&](int64_t first, int64_t last) {
      std::vector<int64_t> merged;
      for (int64_t s = first; s < last; ++s) {
        slice_union(s, merged);
        counts[s] = static_cast<int64_t>(merged.size());
      }
    });
    TENSORD_ASSIGN_OR_RETURN(int64_t nnz, WriteIndptr(counts, *out[1], op_.c_str()));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt32, {nnz}));
    int32_t* indices = out[0]->data<int32_t>();
    const int32_t* indptr = out[1]->data<int32_t>();
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

class EliminateZerosKernel final : public StructureKernel {
 public:
  using StructureKernel::StructureKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor data = Contiguous(*in[0]);
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m,
                             Layout(*in[1], *in[2], *in[3], data.num_elements()));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.minor, op_.c_str(), m.csr ? "columns" : "rows"));
    return DispatchNumeric(data.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* v = data.data<T>();
      std::vector<int64_t> counts(m.major, 0);
      for (int64_t s = 0; s < m.major; ++s)
        for (int64_t p = m.begin(s); p < m.end(s); ++p) counts[s] += IsStored(v[p]);
      TENSORD_ASSIGN_OR_RETURN(int64_t nnz, WriteIndptr(counts, *out[2], op_.c_str()));
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
class TransposeStructureKernel final : public StructureKernel {
 public:
  using StructureKernel::StructureKernel;

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(CompressedLayout m, Layout(*in[0], *in[1], *in[2], -1));
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(m.major, op_.c_str(), m.csr ? "rows" : "columns"));
    std::vector<int64_t> counts;
    if (m.minor > runtime::MaxTensorBytes() / static_cast<int64_t>(sizeof(int64_t))) {
      return absl::ResourceExhaustedError(
          absl::StrCat(op_, ": the other format needs ", m.minor,
                       " + 1 slices, more than --max_tensor_bytes allows"));
    }
    counts.assign(m.minor, 0);
    for (int64_t p = 0; p < m.nnz; ++p) ++counts[m.indices[p]];
    TENSORD_ASSIGN_OR_RETURN(int64_t nnz, WriteIndptr(counts, *out[1], op_.c_str()));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(DType::kInt32, {nnz}));
    TENSORD_RETURN_IF_ERROR(out[2]->Reshape(DType::kInt64, {nnz}));
    int32_t* indices = out[0]->data<int32_t>();
    int64_t* perm = out[2]->data<int64_t>();
    const int32_t* indptr = out[1]->data<int32_t>();
    for (int64_t i = 0; i < m.minor; ++i) counts[i] = indptr[i];  // next free slot per slice
    for (int64_t s = 0; s < m.major; ++s) {
      for (int64_t p = m.begin(s); p < m.end(s); ++p) {
        const int64_t slot = counts[m.indices[p]]++;
        indices[slot] = static_cast<int32_t>(s);
        perm[slot] = p;
      }
    }
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
