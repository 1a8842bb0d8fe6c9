// How the CPU reduction kernels walk their input (kernels/reductions*.cc, kernels/grad_ops.cc).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/fold_row.h"
#include "engine/runtime/parallel.h"
#include "engine/runtime/tensor.h"

namespace tensord::cpu {

// How one run maps input elements to output elements. Walking the input in C order with
// ForEachRow over {out_strides, x.strides(), reduced_index_strides} yields, per element,
// the output element it folds into and its flat index within the reduced axes (C order), which
// is what argmax reports. Elements of one output are visited in increasing reduced index.
struct ReduceLayout {
  runtime::Shape out_shape;
  Strides out_strides;            // per input dim; 0 on reduced dims
  Strides reduced_index_strides;  // per input dim; 0 on kept dims
  int64_t reduced_count = 1;      // elements folded into each output element
};
ReduceLayout MakeReduceLayout(const runtime::Shape& in_shape, const std::vector<int64_t>& axes);

// INVALID_ARGUMENT for reductions without an identity (max, argmin ...) over zero elements, as
// NumPy refuses them; an empty output of a non-empty reduction is fine.
absl::Status CheckNonEmptyReduction(const std::string& op, const runtime::Shape& in_shape,
                                    const ReduceLayout& layout);

// Input elements per intra-op range of a reduction.
inline constexpr int64_t kReduceGrain = 64 * 1024;

// The outermost kept dimension with at least two entries, whose slices fold into disjoint
// outputs; -1 when there is none (everything folds into one output).
int SplitDim(const runtime::Shape& shape, const ReduceLayout& l);

// Calls row(len, out offset, in offset) for every innermost row of x, as ForEachRow over
// {l.out_strides, x.strides()} does. A large x is split over the intra-op threads along
// SplitDim: threads fold into disjoint outputs, each output still in the same order, so the
// bits do not depend on the split. With reduced dimensions outside the split one (a sum over
// axis 0), each thread walks all of them for its share of the kept ones.
template <typename RowFn>
void ForEachReducedRow(const runtime::Tensor& x, const ReduceLayout& l, RowFn&& row) {
  const int64_t total = x.num_elements();
  const int k = SplitDim(x.shape(), l);
  if (k < 0 || total < 2 * kReduceGrain) {
    ForEachRow(x.shape(), {l.out_strides, x.strides()},
               [&](int64_t len, int64_t, const int64_t* o) { row(len, o[0], o[1]); });
    return;
  }
  const int64_t slice = total / x.shape()[k];
  runtime::ParallelFor(
      x.shape()[k], std::max<int64_t>(1, kReduceGrain / slice), [&](int64_t begin, int64_t end) {
        runtime::Shape part = x.shape();
        part[k] = end - begin;
        const int64_t to = begin * l.out_strides[k], from = begin * x.strides()[k];
        ForEachRow(part, {l.out_strides, x.strides()}, [&](int64_t len, int64_t, const int64_t* o) {
          row(len, to + o[0], from + o[1]);
        });
      });
}

// Reductions over the leading axes of contiguous data (a sum over axis 0, over (0, 1) ...)
// fold R rows of C contiguous values row into row. Walking them row by row (ForEachRow's
// order) sweeps all C accumulators once per row, from L2 or memory; this walks column blocks
// whose accumulators stay in L1, each block's rows in order (every output folds its values in
// the same order whatever the threads, so the same bits), the blocks split over the intra-op
// threads. Calls fold(n, to, from, rows, stride) for `rows` (1 to 4) rows of n contiguous values,
// the first at x + from, the next `stride` further, into outputs to .. to + n - 1. Returns false,
// doing nothing, when x is not of that form.
template <typename Fold>
bool FoldLeadingAxes(const runtime::Tensor& x, const ReduceLayout& l, Fold&& fold) {
  const int nd = x.ndim();
  int r = 0;  // the leading reduced dims
  while (r < nd && l.out_strides[r] == 0) ++r;
  int64_t rows = 1, cols = 1;
  for (int d = 0; d < nd; ++d) {
    if (d >= r && l.out_strides[d] == 0 && x.shape()[d] != 1) return false;  // reduced, inside
    (d < r ? rows : cols) *= x.shape()[d];
  }
  if (r == 0 || rows < 2 || cols < 2 || !x.is_contiguous()) return false;
  // Up to 2048 columns a block (16 KiB of double accumulators: L1), narrower where that leaves
  // a thread without one; rows too narrow for a block each (a tall (10^6, 64) array) take
  // ForEachReducedRow's split of the kept dimension instead.
  const int64_t threads = runtime::IntraOpThreads();
  const int64_t block =
      std::min<int64_t>(2048, std::max<int64_t>(64, (cols + threads - 1) / threads));
  const int64_t blocks = (cols + block - 1) / block;
  if (blocks < std::min<int64_t>(threads, 2) && rows * cols >= 2 * kReduceGrain) return false;
  runtime::ParallelFor(blocks, std::max<int64_t>(1, kReduceGrain / (rows * block)),
                       [&](int64_t first, int64_t last) {
                         for (int64_t b = first; b < last; ++b) {
                           const int64_t c = b * block, n = std::min(block, cols - c);
                           for (int64_t row = 0; row < rows; row += 4) {
                             const int group = static_cast<int>(std::min<int64_t>(4, rows - row));
                             fold(n, c, row * cols + c, group, cols);
                           }
                         }
                       });
  return true;
}

// Folds a contiguous row as FoldRow (fold_row.h), split over the intra-op threads when long;
// the partial results are folded in order, so the same split (thread count, and whether the
// caller is itself a range of another ParallelFor, which runs it whole) gives the same bits.
template <class Op, class Acc, class T>
Acc FoldLongRow(Acc a, const T* s, int64_t n) {
  if (n < 2 * kReduceGrain) return Op::Fold(a, FoldRow<Op, Acc>(s, n));
  std::vector<Acc> partial((n + kReduceGrain - 1) / kReduceGrain, Op::template Init<Acc>());
  runtime::ParallelFor(n, kReduceGrain, [&](int64_t begin, int64_t end) {
    partial[begin / kReduceGrain] = FoldRow<Op, Acc>(s + begin, end - begin);
  });
  for (const Acc& p : partial) a = Op::Fold(a, p);
  return a;
}

// Folds x over the layout's reduced axes into acc (one accumulator per output, set to Op's
// identity by the caller), by the fastest walk that fits: one long row when everything folds
// into one output of contiguous data, rows into rows over leading axes (FoldLeadingAxes), else
// row by row (ForEachReducedRow). The one fold loop of sum, prod, max, min, all, any and mean.
template <class Op, class Acc, class T>
void FoldOver(const runtime::Tensor& x, const ReduceLayout& l, Acc* acc) {
  const T* src = x.data<T>();
  if (runtime::NumElements(l.out_shape) == 1 && x.is_contiguous()) {
    acc[0] = FoldLongRow<Op>(acc[0], src, x.num_elements());
    return;
  }
  auto rows_into_rows = [&](int64_t len, int64_t to, int64_t from, int rows, int64_t stride) {
    FoldRowsInto<Op>(acc + to, src + from, stride, rows, len);
  };
  if (FoldLeadingAxes(x, l, rows_into_rows)) return;
  const int64_t inner = l.out_strides.empty() ? 0 : l.out_strides.back();
  const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
  ForEachReducedRow(x, l, [&](int64_t len, int64_t to, int64_t from) {
    Acc* a = acc + to;
    const T* s = src + from;
    if (inner == 0 && step == 1) {  // a contiguous row into one output
      *a = FoldLongRow<Op>(*a, s, len);
    } else if (inner == 1 && step == 1) {  // a contiguous row into a row of outputs
      FoldInto<Op>(a, s, len);
    } else if (inner == 0) {
      Acc folded = *a;
      for (int64_t i = 0; i < len; ++i) folded = Op::Fold(folded, static_cast<Acc>(s[i * step]));
      *a = folded;
    } else {
      for (int64_t i = 0; i < len; ++i)
        a[i * inner] = Op::Fold(a[i * inner], static_cast<Acc>(s[i * step]));
    }
  });
}

// out = sum of x over `axes` (in x's dtype; float32 accumulates in float64, as sum does).
absl::Status SumOverAxes(const runtime::Tensor& x, std::vector<int64_t> axes, runtime::Tensor& out);

}  // namespace tensord::cpu
