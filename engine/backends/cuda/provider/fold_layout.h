// How the CUDA kernels that fold a value per output (arg reductions, moments, batch
// normalization's statistics) see it: its dims split into kept ones (an output each) and
// reduced ones, each group in C order and padded in front with dims of 1 to kMostFoldDims, so a
// kernel finds output k's elements with tensord_offset (OffsetSource) over each group; and the
// fixed-tree sum of a block's threads those kernels share.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/runtime/tensor.h"

namespace tensord::cuda {

constexpr int kMostFoldDims = 8;
using FoldDims = std::array<int64_t, kMostFoldDims>;

struct FoldLayout {
  int64_t outputs = 1, reduced = 1;  // kept and reduced elements
  FoldDims kept_shape, reduced_shape;
  std::vector<bool> folded;  // per dim of the value
};

// `shape` (at most kMostFoldDims dims) folded over `axes` (each in range, none twice).
FoldLayout MakeFoldLayout(const runtime::Shape& shape, const std::vector<int64_t>& axes);

// An operand's `strides` (over the value's dims) split as the layout splits the dims.
void SplitStrides(const FoldLayout& layout, const runtime::Strides& strides, FoldDims* kept,
                  FoldDims* reduced);

// CUDA source of `double tensord_block_sum(double v, double* shared)`: the block's threads'
// values summed in a fixed tree (the same bits every run) through `shared` (blockDim.x
// doubles, blockDim.x a power of two), returned to every thread. Every thread of the block
// must call it.
std::string BlockSumSource();

}  // namespace tensord::cuda
