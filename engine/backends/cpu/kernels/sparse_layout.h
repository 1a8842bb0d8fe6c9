// The compressed layout of a sparse matrix's components (engine/ops/defs/sparse.h), checked
// once per run so that the sparse kernels can index through indptr and indices freely.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>

#include "engine/backends/kernel.h"
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

// Calls fn(s, p) for every stored entry p of every major slice s, the slices split over the
// threads as ForEachSliceRange splits them (for kernels whose slices write disjoint outputs).
template <typename Fn>
void ForEachEntry(const CompressedLayout& m, int64_t cost_per_entry, Fn&& fn) {
  ForEachSliceRange(m, cost_per_entry, [&](int64_t first, int64_t last) {
    for (int64_t s = first; s < last; ++s)
      for (int64_t p = m.begin(s); p < m.end(s); ++p) fn(s, p);
  });
}

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

// An int32 indptr output of `slices` + 1 entries, zeroed, for kernels that count slice s's
// entries into indptr[s + 1] (each count must fit int32) and then call FinishIndptr. Sized
// through Reshape first, so a hostile slice count is held to --max_tensor_bytes and counted
// like every output before any work.
absl::StatusOr<int32_t*> StartIndptr(runtime::Tensor& indptr, int64_t slices);
// Turns the counts into offsets; returns the total (nnz), checked to fit int32.
absl::StatusOr<int64_t> FinishIndptr(int32_t* indptr, int64_t slices, const char* op);

// The sparse kernels' base: the node's format (and transpose) parsed once, and the checked
// layout of a run's components.
class SparseKernel : public backends::Kernel {
 public:
  explicit SparseKernel(const ir::Apply& node) : op_(node.op), attrs_(ops::GetSparseAttrs(node)) {}

 protected:
  absl::StatusOr<CompressedLayout> Layout(const runtime::Tensor& indices,
                                          const runtime::Tensor& indptr,
                                          const runtime::Tensor& shape, int64_t data_size) const {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    return ReadLayout(indices, indptr, shape, attrs_->format, data_size, op_.c_str());
  }

  std::string op_;
  absl::StatusOr<ops::SparseAttrs> attrs_;
};

}  // namespace tensord::cpu
