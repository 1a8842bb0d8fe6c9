#include "engine/backends/cuda/provider/fold_layout.h"

#include <algorithm>

namespace tensord::cuda {

FoldLayout MakeFoldLayout(const runtime::Shape& shape, const std::vector<int64_t>& axes) {
  FoldLayout l;
  l.folded.assign(shape.size(), false);
  for (int64_t a : axes) l.folded[a] = true;
  SplitStrides(l, shape, &l.kept_shape, &l.reduced_shape);  // the sizes split as strides are
  const int folded = static_cast<int>(std::count(l.folded.begin(), l.folded.end(), true));
  const int kept = static_cast<int>(shape.size()) - folded;
  std::fill(l.kept_shape.begin(), l.kept_shape.end() - kept, 1);  // padding dims of size 1
  std::fill(l.reduced_shape.begin(), l.reduced_shape.end() - folded, 1);
  for (size_t d = 0; d < shape.size(); ++d) (l.folded[d] ? l.reduced : l.outputs) *= shape[d];
  return l;
}

void SplitStrides(const FoldLayout& layout, const runtime::Strides& strides, FoldDims* kept,
                  FoldDims* reduced) {
  kept->fill(0);
  reduced->fill(0);
  const int dims = static_cast<int>(layout.folded.size());
  const int folded = static_cast<int>(std::count(layout.folded.begin(), layout.folded.end(), true));
  int k = kMostFoldDims - (dims - folded), r = kMostFoldDims - folded;
  for (int d = 0; d < dims; ++d) (layout.folded[d] ? (*reduced)[r++] : (*kept)[k++]) = strides[d];
}

std::string BlockSumSource() {
  return R"(__device__ inline double tensord_block_sum(double v, double* shared) {
  const unsigned t = threadIdx.x;
  shared[t] = v;
  __syncthreads();
  for (unsigned half = blockDim.x / 2; half > 0; half /= 2) {
    if (t < half) shared[t] += shared[t + half];
    __syncthreads();
  }
  const double total = shared[0];
  __syncthreads();  // the next sum reuses the array
  return total;
}
)";
}

}  // namespace tensord::cuda
