// Patches of images as rows (Theano's T.nnet.neighbours): images2neibs(x) and its adjoint
// neibs2images(neibs, image_shape), shared by type inference, shape rules and the kernels.
//
//   images2neibs(x; neib_shape, neib_step, mode)   x (N, C, H, W) -> (N*C*ph*pw, nh*nw): each
//       row one patch in row-major order, rows ordered by (n, c, patch row, patch column)
//   neibs2images(neibs, image_shape; same)          sums every row back where its patch came
//       from (the inverse for non-overlapping patches, Theano's neibs2images)
// Mode 'wrap_centered' (Theano's): odd patches centred on every neib_step-th pixel, reading
// across the image's edges from the opposite side (a torus); ceil(size / step) patches per dim.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

enum class NeibsMode { kValid, kIgnoreBorders, kHalf, kFull, kWrapCentered };

struct NeibsAttrs {
  int64_t shape[2] = {1, 1};
  int64_t step[2] = {1, 1};
  NeibsMode mode = NeibsMode::kValid;
  // Where a patch starts before its step's pixel: the zero padding of 'half' and 'full', the
  // centring of 'wrap_centered'.
  int64_t Pad(int d) const {
    return mode == NeibsMode::kHalf || mode == NeibsMode::kWrapCentered ? shape[d] / 2
           : mode == NeibsMode::kFull                                   ? shape[d] - 1
                                                                        : 0;
  }
};

absl::StatusOr<NeibsAttrs> GetNeibsAttrs(const ir::Apply& node);

// The patches of one run: the image's shape, its planes (N * C), the patches down and across,
// and the (N * C * patches, rows * cols) matrix holding them.
struct NeibsLayout {
  runtime::Shape image, neibs;
  int64_t planes = 0;
  int64_t count[2] = {0, 0};
};

// What every kernel of `op` checks before it computes, in the host's words: images2neibs's image
// is its input's shape; neibs2images reads the image shape from inputs[1] (a host tensor) and
// needs inputs[0] to hold exactly its patches. Sizes that would overflow are RESOURCE_EXHAUSTED.
absl::StatusOr<NeibsLayout> NeibsLayoutOf(const NeibsAttrs& a, const std::string& op,
                                          std::span<const runtime::Tensor* const> inputs);

// Patches along image dim d (0: rows, 1: columns) of size `size`; an error names what does not
// fit ('valid' needs the patches to tile the image exactly).
absl::StatusOr<int64_t> NeibsCount(const NeibsAttrs& a, int d, int64_t size, const char* op);

}  // namespace tensord::ops
