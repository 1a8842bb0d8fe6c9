// The compressed layout of a sparse matrix's components (engine/ops/defs/sparse.h), checked
// once per run so that the sparse kernels can index through indptr and indices freely.
#pragma once

#include <cstdint>
#include <functional>
#include <type_traits>

#include "engine/common/dtype_dispatch.h"
#include "engine/common/status.h"
#include "engine/ops/defs/sparse.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

struct CompressedLayout {
  runtime::Tensor indices_storage, indptr_storage;  // contiguous int64 (the op's input dtypes)
  const int64_t* indices = nullptr;
  const int64_t* indptr = nullptr;
  int64_t rows = 0, cols = 0;    // the matrix's shape
  int64_t major = 0, minor = 0;  // rows, cols (csr) or cols, rows (csc)
  int64_t nnz = 0;
  bool csr = true;

  int64_t begin(int64_t slice) const { return indptr[slice]; }
  int64_t end(int64_t slice) const { return indptr[slice + 1]; }
  // Row and column of entry p of major slice s.
  int64_t Row(int64_t s, int64_t p) const { return csr ? s : indices[p]; }
  int64_t Col(int64_t s, int64_t p) const { return csr ? indices[p] : s; }
};

// The matrix's shape from its (2,) shape vector: INVALID_ARGUMENT unless two values >= 0.
absl::Status ReadSparseShape(const runtime::Tensor& shape, const char* op, int64_t* rows,
                             int64_t* cols);

// Checks and reads (indices, indptr, shape): indptr has major + 1 entries, starts at 0, never
// decreases and ends at nnz = len(indices) (= `data_size` when that is >= 0); every index lies
// in [0, minor). Errors are INVALID_ARGUMENT naming the op and the component.
absl::StatusOr<CompressedLayout> ReadLayout(const runtime::Tensor& indices,
                                            const runtime::Tensor& indptr,
                                            const runtime::Tensor& shape, ops::SparseFormat format,
                                            int64_t data_size, const char* op);

// Calls fn(begin, end) over the major slices, split over the threads into ranges of roughly
// equal stored entries times `cost_per_entry`.
void ForEachSliceRange(const CompressedLayout& m, int64_t cost_per_entry,
                       const std::function<void(int64_t, int64_t)>& fn);

// Runs f with the C++ type of a numeric dtype (the sparse ops' type rules refuse bool).
template <typename F>
absl::Status DispatchNumeric(DType d, F&& f) {
  return DispatchAll(d, [&](auto tag) -> absl::Status {
    if constexpr (std::is_same_v<typename decltype(tag)::type, bool>) {
      return absl::InternalError("sparse kernels take no bool values");
    } else {
      return f(tag);
    }
  });
}

// int32 index outputs (scipy's): RESOURCE_EXHAUSTED when `count` does not fit.
absl::Status CheckFitsInt32(int64_t count, const char* op, const char* what);

}  // namespace tensord::cpu
