// Helpers shared by the creation, tile/repeat and join/sort op files (one op family, three
// files so each stays small). Registered together by RegisterCreationOps.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops::creation {

// An output dtype named by attr `dtype`; float16 and invalid values are refused.
absl::StatusOr<DType> DTypeAttr(const ir::Apply& node);

void RegisterTileRepeatOps(Registry& r);
void RegisterJoinSortOps(Registry& r);

absl::StatusOr<int64_t> ShapeIndex(const ir::Apply& node);

// A scalar input read both ways: integers stay exact, floats keep their fraction.
struct Number {
  bool is_int = true;
  int64_t i = 0;
  double d = 0;
};

// A 0-d tensor of any dtype as a Number (host memory).
absl::StatusOr<Number> ReadNumber(const runtime::Tensor& t);

// NumPy's arange length: exact for integers, ceil((stop - start) / step) in double otherwise.
absl::StatusOr<int64_t> ArangeLength(const Number& start, const Number& stop, const Number& step);

// The axis attr normalized against the input rank; rank 0 has no axis to work along.
absl::StatusOr<int64_t> Axis(const ir::Apply& node);

// alloc(value, *dims)'s output shape at run time (metadata only): its dims, each a
// non-negative integer, to which the value broadcasts; else INVALID_ARGUMENT.
absl::StatusOr<runtime::Shape> AllocShape(std::span<const runtime::Tensor* const> in);

// join's output shape at run time (metadata only): the inputs' dims along `axis` summed, the
// others the same in every input, else INVALID_ARGUMENT naming the first that differs.
absl::StatusOr<runtime::Shape> JoinedShape(std::span<const runtime::Tensor* const> in,
                                           int64_t axis);

// Like numpy.tile, x and reps are both left-padded with 1s to the longer of the two.
absl::StatusOr<std::vector<int64_t>> PaddedReps(const ir::Apply& node);

// The repeated axis, or nullopt for axis=None (x is flattened first, as numpy.repeat does).
absl::StatusOr<std::optional<int64_t>> RepeatAxis(const ir::Apply& node);

absl::StatusOr<int64_t> FlattenNdim(const ir::Apply& node);

// tile's output at run time: x's dims (left-padded with 1s to the reps' length) times the reps;
// `grouped`, if given, gets the output seen as (r0, s0, r1, s1, ...), whose rep dims read x with
// stride 0. INVALID_ARGUMENT where a dim overflows int64.
absl::StatusOr<runtime::Shape> TiledShape(const runtime::Shape& x, const std::vector<int64_t>& reps,
                                          runtime::Shape* grouped = nullptr);

// repeat's output length along the repeated axis: `n` elements repeated `counts` times (one
// count for all, or one each), checked (the count of counts, negative counts, overflow).
// `counts_ndim` is the repeats operand's rank (a vector of one count applies to all, as NumPy).
absl::StatusOr<int64_t> RepeatedLength(const std::vector<int64_t>& counts, int counts_ndim,
                                       int64_t n);

}  // namespace tensord::ops::creation
