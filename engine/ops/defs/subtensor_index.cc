// Index-list parsing and the per-dimension index arithmetic shared by the subtensor ops.
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
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

absl::StatusOr<int64_t> ReadScalarIndex(const runtime::Tensor& t) {
  int64_t value = 0;
  TENSORD_RETURN_IF_ERROR(cpu::DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T> || std::is_same_v<T, bool>) {
      return InvalidArgument("an index must be an integer, got ", DTypeName(t.dtype()));
    } else {
      const uint64_t limit = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
      if constexpr (std::is_same_v<T, uint64_t>) {
        if (t.data<T>()[0] > limit) return InvalidArgument("index ", t.data<T>()[0], " too large");
      }
      value = static_cast<int64_t>(t.data<T>()[0]);
      return absl::OkStatus();
    }
  }));
  return value;
}

absl::StatusOr<int64_t> FieldValue(const Field& f, std::span<const runtime::Tensor* const> in) {
  if (f.input < 0) return f.value;
  return ReadScalarIndex(*in[f.input]);
}

absl::Status ApplyInt(int64_t index, int axis, int64_t n, int64_t stride, int64_t* offset) {
  if (index < -n || index >= n) {
    return InvalidArgument("index ", index, " is out of bounds for axis ", axis, " with size ", n);
  }
  *offset += (index < 0 ? index + n : index) * stride;
  return absl::OkStatus();
}

absl::StatusOr<Dim> ApplySlice(const Entry& e, std::span<const runtime::Tensor* const> in,
                               int64_t n, int64_t stride, int64_t* offset) {
  int64_t step = 1;
  if (!e.f[2].none) {
    TENSORD_ASSIGN_OR_RETURN(step, FieldValue(e.f[2], in));
    if (step == 0) return InvalidArgument("slice step cannot be zero");
  }
  const int64_t lower = step < 0 ? -1 : 0, upper = step < 0 ? n - 1 : n;
  auto bound = [&](const Field& f, int64_t dflt) -> absl::StatusOr<int64_t> {
    if (f.none) return dflt;
    TENSORD_ASSIGN_OR_RETURN(int64_t v, FieldValue(f, in));
    if (v < 0) {
      // Avoids overflow for huge negative values: anything below -n clamps to `lower`.
      v = v < -n ? lower : v + n;
      return std::max(v, lower);
    }
    return std::min(v, upper);
  };
  TENSORD_ASSIGN_OR_RETURN(int64_t start, bound(e.f[0], step < 0 ? upper : lower));
  TENSORD_ASSIGN_OR_RETURN(int64_t stop, bound(e.f[1], step < 0 ? lower : upper));
  // start and stop lie in [-1, n], so their distance fits; a step near +-2^63 must not overflow
  // (step + distance, -INT64_MIN or stride * step), hence the unsigned magnitude.
  const int64_t span = step > 0 ? stop - start : start - stop;
  const uint64_t magnitude =
      step > 0 ? static_cast<uint64_t>(step) : 0 - static_cast<uint64_t>(step);
  const int64_t len =
      span > 0 ? 1 + static_cast<int64_t>(static_cast<uint64_t>(span - 1) / magnitude) : 0;
  // An empty slice reads nothing; keep the view's first element inside the buffer anyway.
  if (len > 0) *offset += start * stride;
  // With two or more elements |step| < n, so stride * step stays inside the buffer's extent.
  return Dim{len, len > 1 ? stride * step : stride};
}

absl::Status AssignInto(const runtime::Tensor& dst, const runtime::Tensor& y, bool set) {
  if (y.ndim() > dst.ndim()) {
    return InvalidArgument("cannot ", set ? "set" : "increment", " a ", dst.ndim(),
                           "-d subtensor with a ", y.ndim(), "-d value");
  }
  const cpu::Shape* shapes[] = {&y.shape(), &dst.shape()};
  auto joint = cpu::BroadcastShapes(shapes);
  if (!joint.ok() || *joint != dst.shape()) {
    return InvalidArgument("value of shape ", runtime::ShapeString(y.shape()),
                           " cannot be broadcast to the indexed shape ",
                           runtime::ShapeString(dst.shape()));
  }
  const cpu::Strides ys = cpu::BroadcastStrides(y, dst.shape());
  return cpu::DispatchAll(dst.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    T* d = dst.data<T>();
    const T* s = y.data<T>();
    const int64_t dstep = dst.ndim() ? dst.strides().back() : 0;
    const int64_t sstep = ys.empty() ? 0 : ys.back();
    cpu::ForEachRow(dst.shape(), {dst.strides(), ys}, [&](int64_t n, int64_t, const int64_t* off) {
      T* dr = d + off[0];
      const T* sr = s + off[1];
      for (int64_t i = 0; i < n; ++i) {
        if (set) {
          dr[i * dstep] = sr[i * sstep];
        } else {
          dr[i * dstep] = static_cast<T>(dr[i * dstep] + sr[i * sstep]);
        }
      }
    });
    return absl::OkStatus();
  });
}

absl::Status CopyInto(const runtime::Tensor& x, runtime::Tensor& out) {
  TENSORD_RETURN_IF_ERROR(out.Reshape(x.dtype(), x.shape()));
  cpu::StridedCopyAny(x, x.strides(), out);
  return absl::OkStatus();
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
