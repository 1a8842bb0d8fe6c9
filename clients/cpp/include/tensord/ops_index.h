// Indexing as Theano's tensor.subtensor (NumPy semantics): x[...] basic and advanced,
// set_subtensor, inc_subtensor and take.
//
//   Var a = GetItem(x, {1, Slice(Var(), 3), Slice(Var(), Var(), -1)});  // x[1, :3, ::-1]
//   Var b = GetItem(x, {Slice(), i});               // x[:, i] with i an integer 0-d Var
//   Var c = GetItem(x, {IndexArray({0, 2, 2})});    // x[[0, 2, 2]] (advanced_subtensor1)
//   Var d = SetSubtensor(GetItem(x, {Slice(1)}), y);  // z = x.copy(); z[1:] = y
//
// An index spec is a list of entries: integers (the dim is dropped), Slice(start, stop, step)
// whose parts are omitted (SliceBound()), integers or integer 0-d Vars, NewAxis() (None),
// Ellipsis() (...), and index arrays (integer or bool Vars of rank >= 1, or IndexArray
// constants). Constant parts travel as the `idx_list` attribute and symbolic ones as inputs.
#ifndef TENSORD_CLIENT_OPS_INDEX_H_
#define TENSORD_CLIENT_OPS_INDEX_H_

#include <concepts>
#include <cstdint>
#include <optional>
#include <vector>

#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {

// A slice start, stop or step: omitted, a constant, or an integer 0-d Var.
class SliceBound {
 public:
  SliceBound() = default;  // omitted (Python's None)
  SliceBound(std::nullopt_t) {}
  template <std::integral T>
  SliceBound(T value) : value_(static_cast<int64_t>(value)) {}
  // An invalid Var also means omitted, so Slice(Var(), 3) is [:3].
  SliceBound(Var var) : var_(var) {}

  bool omitted() const { return !value_ && !var_.valid(); }
  const std::optional<int64_t>& value() const { return value_; }
  Var var() const { return var_; }

 private:
  std::optional<int64_t> value_;
  Var var_;
};

class IndexEntry {
 public:
  enum class Kind { kInt, kSlice, kArray, kNewAxis, kEllipsis };

  template <std::integral T>
  requires(!std::same_as<T, bool>)  // a bool index is a mask: pass a bool Var
      IndexEntry(T index)
      : kind_(Kind::kInt), parts_{static_cast<int64_t>(index), {}, {}} {}
  // A 0-d integer Var is a (symbolic) integer index; a bool Var or one of rank >= 1 is an
  // index array (advanced indexing).
  IndexEntry(Var var);

  Kind kind() const { return kind_; }
  // kInt: parts[0]; kSlice: start, stop, step.
  const SliceBound& part(int i) const { return parts_[i]; }
  Var array() const { return array_; }

 private:
  friend IndexEntry Slice(SliceBound, SliceBound, SliceBound);
  friend IndexEntry NewAxis();
  friend IndexEntry Ellipsis();
  explicit IndexEntry(Kind kind) : kind_(kind) {}

  Kind kind_;
  SliceBound parts_[3];
  Var array_;
};

using IndexSpec = std::vector<IndexEntry>;

// start:stop:step; Slice() is `:`. A step of 0 is refused.
IndexEntry Slice(SliceBound start = {}, SliceBound stop = {}, SliceBound step = {});
IndexEntry NewAxis();   // None: a new broadcastable dim
IndexEntry Ellipsis();  // ...: as many `:` as the other entries leave
// A constant int64 index array of `g` (for advanced indexing).
Var IndexArray(GraphBuilder& g, const std::vector<int64_t>& indices);

// NumPy's x[index]: subtensor when every entry is basic, advanced_subtensor1 for one integer
// vector on axis 0 followed by full slices, advanced_subtensor otherwise.
Var GetItem(Var x, const IndexSpec& index);
// subtensor: basic indexing only (ints, slices, NewAxis, Ellipsis).
Var Subtensor(Var x, const IndexSpec& index);
// advanced_subtensor: the index as NumPy advanced indexing (ints become 0-d index arrays).
Var AdvancedSubtensor(Var x, const IndexSpec& index);
// advanced_subtensor1: x[ilist] along axis 0 for an integer vector ilist.
Var AdvancedSubtensor1(Var x, Var ilist);

// Theano's set_subtensor / inc_subtensor: `x_sub` must be the result of GetItem, Subtensor,
// AdvancedSubtensor or AdvancedSubtensor1; returns a copy of the indexed tensor with that part
// set to (or incremented by) y, which broadcasts and may not have a higher rank than x_sub.
// Repeated advanced indices accumulate when incrementing (numpy.add.at).
Var SetSubtensor(Var x_sub, Var y);
Var IncSubtensor(Var x_sub, Var y);
template <Arithmetic T>
Var SetSubtensor(Var x_sub, T y) {
  return SetSubtensor(x_sub, internal::Lift(x_sub, y));
}
template <Arithmetic T>
Var IncSubtensor(Var x_sub, T y) {
  return IncSubtensor(x_sub, internal::Lift(x_sub, y));
}

// numpy.take: a's entries at integer `indices` along `axis`, or of the flattened a without one.
Var Take(Var a, Var indices, std::optional<int64_t> axis = std::nullopt);

}  // namespace tensord::client

#endif  // TENSORD_CLIENT_OPS_INDEX_H_
