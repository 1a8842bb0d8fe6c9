// Index-list parsing and the per-dimension index arithmetic shared by the subtensor ops.
#include "engine/ops/defs/subtensor.h"

namespace tensord::ops::subtensor {

absl::StatusOr<std::vector<Entry>> ParseIndex(const ir::Apply& node, int first_input,
                                              bool allow_arrays) {
  TENSORD_ASSIGN_OR_RETURN(auto flat, ir::GetIntsAttr(node, "idx_list"));
  if (flat.size() % 4 != 0) {
    return InvalidArgument(node.op, ": idx_list must hold groups of 4 ints, got ", flat.size());
  }
  const ir::Type& x = node.inputs[0]->type;
  int next = first_input;
  int dims = 0;
  auto take_scalar = [&](Field& f, int64_t v) -> absl::Status {
    f.none = v == kIndexNone;
    if (v != kIndexSymbolic) {
      f.value = v;
      return absl::OkStatus();
    }
    if (next >= static_cast<int>(node.inputs.size())) {
      return InvalidArgument(node.op, ": idx_list names more index inputs than the node has");
    }
    const ir::Type& t = node.inputs[next]->type;
    if (t.ndim() != 0 || !IsInteger(t.dtype)) {
      return InvalidArgument(node.op, ": a scalar index must be an integer scalar, got ",
                             ir::TypeString(t));
    }
    f.input = next++;
    return absl::OkStatus();
  };
  std::vector<Entry> entries;
  for (size_t g = 0; g < flat.size(); g += 4) {
    Entry e;
    if (flat[g] < 0 || flat[g] > 2) {
      return InvalidArgument(node.op, ": unknown index kind ", flat[g], " in idx_list");
    }
    e.kind = static_cast<Kind>(flat[g]);
    if (e.kind == Kind::kInt) {
      if (flat[g + 1] == kIndexNone) return InvalidArgument(node.op, ": an integer index is None");
      TENSORD_RETURN_IF_ERROR(take_scalar(e.f[0], flat[g + 1]));
      ++dims;
    } else if (e.kind == Kind::kSlice) {
      for (int i = 0; i < 3; ++i) TENSORD_RETURN_IF_ERROR(take_scalar(e.f[i], flat[g + 1 + i]));
      if (!e.f[2].none && e.f[2].input < 0 && e.f[2].value == 0) {
        return InvalidArgument(node.op, ": slice step cannot be zero");
      }
      ++dims;
    } else {
      if (!allow_arrays) {
        return InvalidArgument(node.op,
                               " takes integers and slices; index arrays need "
                               "advanced_subtensor");
      }
      if (next >= static_cast<int>(node.inputs.size())) {
        return InvalidArgument(node.op, ": idx_list names more index inputs than the node has");
      }
      const ir::Type& t = node.inputs[next]->type;
      if (t.dtype == DType::kBool) {
        dims += t.ndim();
      } else if (IsInteger(t.dtype)) {
        ++dims;
      } else {
        return InvalidArgument(node.op, ": index arrays must be integer or boolean, got ",
                               ir::TypeString(t));
      }
      e.input = next++;
    }
    entries.push_back(e);
  }
  if (dims > x.ndim()) {
    return InvalidArgument(node.op, ": too many indices (", dims, ") for a tensor of rank ",
                           x.ndim());
  }
  if (next != static_cast<int>(node.inputs.size())) {
    return InvalidArgument(node.op, ": ", static_cast<int>(node.inputs.size()) - next,
                           " index input(s) not named by idx_list");
  }
  return entries;
}

bool SliceKeepsBroadcastable(const Entry& e) {
  const Field &start = e.f[0], &stop = e.f[1];
  if (start.input >= 0 || (!start.none && start.value != 0)) return false;
  return stop.none || (stop.input < 0 && stop.value > 0);
}

ir::Type BasicIndexType(const ir::Type& x, const std::vector<Entry>& entries) {
  ir::Type out{x.dtype, {}};
  for (size_t d = 0; d < static_cast<size_t>(x.ndim()); ++d) {
    if (d >= entries.size()) {
      out.broadcastable.push_back(x.broadcastable[d]);
    } else if (entries[d].kind == Kind::kSlice) {
      out.broadcastable.push_back(x.broadcastable[d] && SliceKeepsBroadcastable(entries[d]));
    }
  }
  return out;
}

std::vector<std::optional<DType>> ValueAsX(const ir::Apply& node) {
  std::vector<std::optional<DType>> want(node.inputs.size());
  want[1] = node.inputs[0]->type.dtype;
  return want;
}

absl::StatusOr<bool> SetInsteadOfInc(const ir::Apply& node) {
  if (!node.attrs.count("set_instead_of_inc")) return false;
  return ir::GetAttr<bool>(node, "set_instead_of_inc");
}

}  // namespace tensord::ops::subtensor
