// Sparse matrices (Theano's theano.sparse) as the server sees them: no sparse type, but the
// compressed layout's dense components, which clients bundle into one sparse variable:
//
//   data (nnz,)  indices (nnz,) int  indptr (major + 1,) int  shape (2,) int
//
// scipy's CSR (major = rows, indices = column of each entry) or CSC (major = columns, indices =
// row). Every op below takes attribute `format` ("csr" | "csc") for its sparse operand(s), and
// its kernel checks the components (indptr starts at 0, never decreases and ends at nnz;
// indices within the minor dim; shape non-negative) before reading through them.
//
//   sparse_dense_dot(data, indices, indptr, shape, y; format, transpose)   A @ y (A.T @ y)
//   sparse_sampled_dot(indices, indptr, shape, a, b; format)  v[p] = a[row p] . b[col p]
//   dense_from_sparse(data, indices, indptr, shape; format)   the dense matrix (duplicates add)
//   sparse_gather(y, indices, indptr, shape; format)          v[p] = y[row p, col p]
//   sparse_from_dense(x; format)                -> data, indices, indptr of x's nonzeros
//   sparse_values_at(data, indices, indptr, at_indices, at_indptr, shape; format)
//                                               the matrix's value at each entry of `at`
//   sparse_union(indices_a, indptr_a, indices_b, indptr_b, shape; format) -> indices, indptr
//   sparse_eliminate_zeros(data, indices, indptr, shape; format) -> data, indices, indptr
//   sparse_transpose_structure(indices, indptr, shape; format) -> indices, indptr, perm of the
//       same matrix in the other format (its data is data[perm])
//   sparse_same_shape(shape_a, shape_b)   shape_a, checked equal to shape_b (no format)
//
// Gradients with respect to data are structured (one value per stored entry), as Theano's
// structured ops give them; index outputs are int32, as scipy's.
#pragma once

#include <cstdint>

#include "engine/ops/op_def.h"

namespace tensord::ops {

enum class SparseFormat { kCsr, kCsc };

struct SparseAttrs {
  SparseFormat format = SparseFormat::kCsr;
  bool transpose = false;  // sparse_dense_dot only
};

absl::StatusOr<SparseAttrs> GetSparseAttrs(const ir::Apply& node);

}  // namespace tensord::ops
