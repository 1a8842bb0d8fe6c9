// Index lists shared by the subtensor ops (basic and advanced, read and inc/set).
//
// Attribute `idx_list` holds one group of four ints per index entry, as Theano's idx_list:
//   [0, i, 0, 0]               x[i]        (an integer; its dimension is dropped)
//   [1, start, stop, step]     x[a:b:c]    (kIndexNone for an omitted part)
//   [2, 0, 0, 0]               x[array]    (advanced ops only: the next index input)
// A value kIndexSymbolic stands for the next index input, an integer scalar, so constant parts
// travel as attributes and symbolic parts as inputs, consumed in entry order. Entries cover the
// leading dimensions; the rest are taken whole.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "engine/ops/op_def.h"

namespace tensord::ops::subtensor {

inline constexpr int64_t kIndexNone = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kIndexSymbolic = std::numeric_limits<int64_t>::min() + 1;

enum class Kind { kInt = 0, kSlice = 1, kArray = 2 };

// A constant value, an omitted slice part, or the node input that supplies it.
struct Field {
  int64_t value = 0;
  bool none = false;
  int input = -1;
};

struct Entry {
  Kind kind = Kind::kInt;
  Field f[3];      // kInt: f[0] is the index; kSlice: start, stop, step
  int input = -1;  // kArray: the index tensor's input position
};

// Parses `idx_list`; index inputs are numbered from `first_input`. Checks that every index
// input is used exactly once, that entries fit x's rank (a boolean array uses one dim per
// axis), that scalars are integer 0-d tensors and arrays integer or boolean tensors.
absl::StatusOr<std::vector<Entry>> ParseIndex(const ir::Apply& node, int first_input,
                                              bool allow_arrays);

// Theano's rule for a sliced broadcastable dim: it stays broadcastable when the slice starts
// at 0 (or is omitted) and its stop is omitted or a constant past the start.
bool SliceKeepsBroadcastable(const Entry& e);

// The output type of basic indexing of x (the dims of integer entries dropped).
ir::Type BasicIndexType(const ir::Type& x, const std::vector<Entry>& entries);

// input_dtypes of the inc ops: the value (input 1) in x's dtype, as NumPy's setitem casts it.
std::vector<std::optional<DType>> ValueAsX(const ir::Apply& node);

// The inc ops' `set_instead_of_inc` attribute (false when absent).
absl::StatusOr<bool> SetInsteadOfInc(const ir::Apply& node);

bool ArraysAdjacent(const std::vector<Entry>& entries);

absl::StatusOr<std::vector<Entry>> Entries(const ir::Apply& node, int first_index);

}  // namespace tensord::ops::subtensor
