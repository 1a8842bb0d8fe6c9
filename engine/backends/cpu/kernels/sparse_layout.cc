#include "engine/backends/cpu/kernels/sparse_layout.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "engine/backends/cpu/broadcast.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {

absl::Status ReadSparseShape(const runtime::Tensor& shape, const char* op, int64_t* rows,
                             int64_t* cols) {
  if (shape.ndim() != 1 || shape.num_elements() != 2) {
    return InvalidArgument(op, ": the sparse shape must hold 2 values, got shape ",
                           runtime::ShapeString(shape.shape()));
  }
  const runtime::Tensor s = Contiguous(shape);
  *rows = s.data<int64_t>()[0];
  *cols = s.data<int64_t>()[1];
  constexpr int64_t kLargest = int64_t{1} << 62;  // so that major + 1 cannot overflow
  if (*rows < 0 || *cols < 0 || *rows > kLargest || *cols > kLargest) {
    return InvalidArgument(op, ": the sparse shape (", *rows, ", ", *cols,
                           ") has a size outside [0, 2^62]");
  }
  return absl::OkStatus();
}

absl::StatusOr<CompressedLayout> ReadLayout(const runtime::Tensor& indices,
                                            const runtime::Tensor& indptr,
                                            const runtime::Tensor& shape, ops::SparseFormat format,
                                            int64_t data_size, const char* op) {
  CompressedLayout m;
  TENSORD_RETURN_IF_ERROR(ReadSparseShape(shape, op, &m.rows, &m.cols));
  m.csr = format == ops::SparseFormat::kCsr;
  m.major = m.csr ? m.rows : m.cols;
  m.minor = m.csr ? m.cols : m.rows;
  const char* major_name = m.csr ? "rows" : "columns";
  if (indptr.num_elements() != m.major + 1) {
    return InvalidArgument(op, ": indptr has ", indptr.num_elements(), " entries; a ",
                           m.csr ? "csr" : "csc", " matrix of shape (", m.rows, ", ", m.cols,
                           ") needs ", major_name, " + 1 = ", m.major + 1);
  }
  m.indices_storage = Contiguous(indices);
  m.indptr_storage = Contiguous(indptr);
  m.indices = m.indices_storage.data<int64_t>();
  m.indptr = m.indptr_storage.data<int64_t>();
  m.nnz = indices.num_elements();
  if (data_size >= 0 && data_size != m.nnz) {
    return InvalidArgument(op, ": data has ", data_size, " entries but indices has ", m.nnz,
                           " (one per stored entry: nnz)");
  }
  if (m.indptr[0] != 0) {
    return InvalidArgument(op, ": indptr must start at 0, got ", m.indptr[0]);
  }
  for (int64_t s = 0; s < m.major; ++s) {
    if (m.indptr[s + 1] < m.indptr[s]) {
      return InvalidArgument(op, ": indptr decreases at ", s + 1, " (", m.indptr[s], " then ",
                             m.indptr[s + 1], ")");
    }
  }
  if (m.indptr[m.major] != m.nnz) {
    return InvalidArgument(op, ": indptr ends at ", m.indptr[m.major], " but there are ", m.nnz,
                           " stored entries (nnz = len(indices))");
  }
  for (int64_t p = 0; p < m.nnz; ++p) {
    if (m.indices[p] < 0 || m.indices[p] >= m.minor) {
      return InvalidArgument(op, ": indices[", p, "] = ", m.indices[p], " is outside [0, ", m.minor,
                             ") (the ", m.csr ? "columns" : "rows", " of shape (", m.rows, ", ",
                             m.cols, "))");
    }
  }
  return m;
}

void ForEachSliceRange(const CompressedLayout& m, int64_t cost_per_entry,
                       const std::function<void(int64_t, int64_t)>& fn) {
  if (m.major == 0) return;
  const int64_t per_slice = std::max<int64_t>(1, (m.nnz / m.major + 1) * cost_per_entry);
  runtime::ParallelFor(m.major, std::max<int64_t>(1, 32768 / per_slice), fn);
}

absl::Status CheckFitsInt32(int64_t count, const char* op, const char* what) {
  if (count > std::numeric_limits<int32_t>::max()) {
    return absl::ResourceExhaustedError(absl::StrCat(op, ": ", count, " ", what,
                                                     " do not fit the int32 indices of the "
                                                     "compressed layout"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int32_t*> StartIndptr(runtime::Tensor& indptr, int64_t slices) {
  TENSORD_RETURN_IF_ERROR(indptr.Reshape(DType::kInt32, {slices + 1}));
  std::memset(indptr.raw(), 0, indptr.num_bytes());
  return indptr.data<int32_t>();
}

absl::StatusOr<int64_t> FinishIndptr(int32_t* indptr, int64_t slices, const char* op) {
  int64_t total = 0;
  for (int64_t s = 1; s <= slices; ++s) {
    total += indptr[s];
    TENSORD_RETURN_IF_ERROR(CheckFitsInt32(total, op, "stored entries"));
    indptr[s] = static_cast<int32_t>(total);
  }
  return total;
}

}  // namespace tensord::cpu
