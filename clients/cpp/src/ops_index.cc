// Index specs -> idx_list: four ints per entry, [0, i, 0, 0] an integer, [1, start, stop, step]
// a slice, [2, 0, 0, 0] an index array (the next input); kNone marks an omitted slice part and
// kSymbolic a part given by the next input. The output types follow the server's rules
// (engine/ops/defs/subtensor*.cc) exactly.
#include "tensord/ops_index.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "src/op_util.h"
#include "tensord/ops_shape.h"

namespace tensord::client {
namespace {

using internal::Fail;

constexpr int64_t kNone = std::numeric_limits<int64_t>::min();
constexpr int64_t kSymbolic = std::numeric_limits<int64_t>::min() + 1;
constexpr int64_t kIntEntry = 0, kSliceEntry = 1, kArrayEntry = 2;

using Kind = IndexEntry::Kind;

struct Parts {
  Var x;  // after NewAxis dims were inserted
  bool advanced = false;
  std::vector<int64_t> flat;
  std::vector<Var> inputs;
  bool rest_full = true;  // every entry after the first is `:`
};

bool IsBoolArray(const IndexEntry& e) {
  return e.kind() == Kind::kArray && e.array().dtype() == kBool;
}

int DimsOf(const IndexEntry& e) {
  if (e.kind() == Kind::kNewAxis || e.kind() == Kind::kEllipsis) return 0;
  return IsBoolArray(e) ? e.array().ndim() : 1;
}

// A slice part or integer index as its idx_list value; symbolic scalars join `inputs`.
absl::StatusOr<int64_t> ScalarPart(const SliceBound& part, std::vector<Var>& inputs) {
  if (part.value()) return *part.value();
  if (!part.var().valid()) return kNone;
  Var v = part.var();
  if (v.ndim() != 0 || !IsInteger(v.dtype())) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected an integer scalar as index, got dtype ", DTypeName(v.dtype()),
                     " of rank ", v.ndim()));
  }
  if (std::optional<int64_t> c = internal::ConstantInt(v)) return *c;
  inputs.push_back(v);
  return kSymbolic;
}

absl::StatusOr<Parts> MakeParts(GraphBuilder* b, Var x, const IndexSpec& index,
                                bool force_advanced) {
  int used = 0, ellipses = 0;
  for (const IndexEntry& e : index) {
    used += DimsOf(e);
    ellipses += e.kind() == Kind::kEllipsis;
    if (e.kind() == Kind::kArray && e.array().dtype() != kBool && !IsInteger(e.array().dtype())) {
      return absl::InvalidArgumentError("index arrays must be integer or boolean");
    }
  }
  if (ellipses > 1) return absl::InvalidArgumentError("an index can only have a single ellipsis");
  if (used > x.ndim()) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many indices for a tensor of rank ", x.ndim(), ": ", used));
  }
  std::vector<IndexEntry> args;
  bool new_axes = false;
  for (const IndexEntry& e : index) {
    if (e.kind() == Kind::kEllipsis) {
      args.insert(args.end(), x.ndim() - used, Slice());
    } else {
      args.push_back(e);
      new_axes = new_axes || e.kind() == Kind::kNewAxis;
    }
  }
  Parts p;
  if (new_axes) {
    std::vector<int64_t> pattern;
    int64_t d = 0;
    for (IndexEntry& e : args) {
      if (e.kind() == Kind::kNewAxis) {
        pattern.push_back(-1);
        e = Slice();
        continue;
      }
      for (int k = 0; k < DimsOf(e); ++k) pattern.push_back(d++);
    }
    while (d < x.ndim()) pattern.push_back(d++);
    x = Dimshuffle(x, pattern);
  }
  p.x = x;
  p.advanced = force_advanced || std::any_of(args.begin(), args.end(), [](const IndexEntry& e) {
                 return e.kind() == Kind::kArray;
               });
  for (size_t i = 0; i < args.size(); ++i) {
    const IndexEntry& e = args[i];
    if (e.kind() == Kind::kSlice) {
      p.flat.push_back(kSliceEntry);
      for (int k = 0; k < 3; ++k) {
        absl::StatusOr<int64_t> v = ScalarPart(e.part(k), p.inputs);
        if (!v.ok()) return v.status();
        p.flat.push_back(*v);
      }
      if (p.flat.back() == 0) return absl::InvalidArgumentError("slice step cannot be zero");
      if (i > 0 && (p.flat[p.flat.size() - 3] != kNone || p.flat[p.flat.size() - 2] != kNone ||
                    p.flat.back() != kNone)) {
        p.rest_full = false;
      }
      continue;
    }
    if (i > 0) p.rest_full = false;
    if (e.kind() == Kind::kArray) {
      p.flat.insert(p.flat.end(), {kArrayEntry, 0, 0, 0});
      p.inputs.push_back(e.array());
    } else if (p.advanced) {
      // An integer among index arrays is a 0-d index array.
      Var index = e.part(0).var();
      if (!index.valid()) index = b->Constant(HostTensor::Scalar<int64_t>(*e.part(0).value()));
      if (index.ndim() != 0 || !IsInteger(index.dtype())) {
        return absl::InvalidArgumentError("expected an integer scalar as index");
      }
      p.flat.insert(p.flat.end(), {kArrayEntry, 0, 0, 0});
      p.inputs.push_back(index);
    } else {
      absl::StatusOr<int64_t> v = ScalarPart(e.part(0), p.inputs);
      if (!v.ok()) return v.status();
      p.flat.insert(p.flat.end(), {kIntEntry, *v, 0, 0});
    }
  }
  return p;
}

// The broadcastable pattern of x indexed by `flat` (the server's rule, NumPy's layout).
std::vector<bool> IndexedBroadcastable(Var x, const std::vector<int64_t>& flat,
                                       const std::vector<Var>& inputs) {
  const std::vector<bool> xb = x.broadcastable();
  std::vector<bool> before, after;
  std::vector<std::vector<bool>> arrays;
  std::vector<size_t> positions;
  size_t d = 0, next = 0;
  for (size_t g = 0; g < flat.size(); g += 4) {
    if (flat[g] == kIntEntry) {
      next += flat[g + 1] == kSymbolic;
      ++d;
    } else if (flat[g] == kSliceEntry) {
      const int64_t start = flat[g + 1], stop = flat[g + 2];
      const bool keeps =
          (start == kNone || start == 0) && (stop == kNone || (stop != kSymbolic && stop > 0));
      (arrays.empty() ? before : after).push_back(xb[d] && keeps);
      for (int k = 1; k < 4; ++k) next += flat[g + k] == kSymbolic;
      ++d;
    } else {
      Var t = inputs[next++];
      positions.push_back(g / 4);
      arrays.push_back(t.dtype() == kBool ? std::vector<bool>{false} : t.broadcastable());
      d += t.dtype() == kBool ? t.ndim() : 1;
    }
  }
  for (; d < xb.size(); ++d) after.push_back(xb[d]);
  size_t nd = 0;
  for (const auto& a : arrays) nd = std::max(nd, a.size());
  std::vector<bool> index;
  for (size_t j = 0; j < nd; ++j) {
    bool bc = true;
    for (const auto& a : arrays) {
      if (j + a.size() >= nd) bc = bc && a[j + a.size() - nd];
    }
    index.push_back(bc);
  }
  const bool adjacent =
      positions.empty() || positions.back() - positions.front() + 1 == positions.size();
  std::vector<bool> out = adjacent ? before : index;
  const auto& second = adjacent ? index : before;
  out.insert(out.end(), second.begin(), second.end());
  out.insert(out.end(), after.begin(), after.end());
  return out;
}

std::vector<Var> IndexVars(Var x, const IndexSpec& index) {
  std::vector<Var> vars = {x};
  for (const IndexEntry& e : index) {
    if (e.array().valid()) vars.push_back(e.array());
    for (int k = 0; k < 3; ++k) {
      if (e.part(k).var().valid()) vars.push_back(e.part(k).var());
    }
  }
  return vars;
}

enum class Mode { kAny, kBasic, kAdvanced };

Var Index(Var x, const IndexSpec& index, Mode mode) {
  GraphBuilder* b = internal::Check("subtensor", IndexVars(x, index));
  if (!b) return Var();
  absl::StatusOr<Parts> p = MakeParts(b, x, index, mode == Mode::kAdvanced);
  if (!p.ok()) return Fail(b, "subtensor", p.status().message());
  if (!p->advanced) {
    std::vector<Var> inputs = {p->x};
    inputs.insert(inputs.end(), p->inputs.begin(), p->inputs.end());
    return internal::Single(b, "subtensor", inputs, {{"idx_list", IntsAttr(p->flat)}}, x.dtype(),
                            IndexedBroadcastable(p->x, p->flat, p->inputs));
  }
  if (mode == Mode::kBasic) return Fail(b, "subtensor", "index arrays need advanced indexing");
  if (mode == Mode::kAny && p->inputs.size() == 1 && p->flat[0] == kArrayEntry && p->rest_full &&
      p->inputs[0].ndim() == 1 && p->inputs[0].dtype() != kBool) {
    return AdvancedSubtensor1(p->x, p->inputs[0]);
  }
  std::vector<Var> inputs = {p->x};
  inputs.insert(inputs.end(), p->inputs.begin(), p->inputs.end());
  return internal::Single(b, "advanced_subtensor", inputs, {{"idx_list", IntsAttr(p->flat)}},
                          x.dtype(), IndexedBroadcastable(p->x, p->flat, p->inputs));
}

Var Inc(Var x_sub, Var y, bool set) {
  const char* name = set ? "set_subtensor" : "inc_subtensor";
  GraphBuilder* b = internal::Check(name, {x_sub, y});
  if (!b) return Var();
  const ::tensord::v1::Apply* producer = internal::ProducerOf(x_sub);
  const std::string op = producer ? producer->op() : "";
  if (op != "subtensor" && op != "advanced_subtensor" && op != "advanced_subtensor1") {
    return Fail(b, name, "x must be the result of a subtensor operation");
  }
  if (y.ndim() > x_sub.ndim()) {
    return Fail(b, name,
                absl::StrCat("cannot assign a value of rank ", y.ndim(), " to a subtensor of rank ",
                             x_sub.ndim()));
  }
  std::vector<Var> inputs = {b->VarOf(producer->inputs(0)), y};
  for (int i = 1; i < producer->inputs_size(); ++i) inputs.push_back(b->VarOf(producer->inputs(i)));
  AttrMap attrs = {{"set_instead_of_inc", BoolAttr(set)}};
  if (op != "advanced_subtensor1") attrs["idx_list"] = producer->attrs().at("idx_list");
  const std::string inc_op = op == "subtensor"            ? "inc_subtensor"
                             : op == "advanced_subtensor" ? "advanced_inc_subtensor"
                                                          : "advanced_inc_subtensor1";
  return internal::Single(b, inc_op, inputs, std::move(attrs), inputs[0].dtype(),
                          inputs[0].broadcastable());
}

}  // namespace

IndexEntry::IndexEntry(Var var) {
  if (var.ndim() == 0 && IsInteger(var.dtype())) {
    kind_ = Kind::kInt;
    parts_[0] = SliceBound(var);
  } else {
    kind_ = Kind::kArray;
    array_ = var;
  }
}

IndexEntry Slice(SliceBound start, SliceBound stop, SliceBound step) {
  IndexEntry e(IndexEntry::Kind::kSlice);
  e.parts_[0] = start;
  e.parts_[1] = stop;
  e.parts_[2] = step;
  return e;
}

IndexEntry NewAxis() { return IndexEntry(IndexEntry::Kind::kNewAxis); }
IndexEntry Ellipsis() { return IndexEntry(IndexEntry::Kind::kEllipsis); }

Var IndexArray(GraphBuilder& g, const std::vector<int64_t>& indices) {
  return g.Constant(HostTensor::Vector<int64_t>(indices));
}

Var GetItem(Var x, const IndexSpec& index) { return Index(x, index, Mode::kAny); }
Var Subtensor(Var x, const IndexSpec& index) { return Index(x, index, Mode::kBasic); }
Var AdvancedSubtensor(Var x, const IndexSpec& index) { return Index(x, index, Mode::kAdvanced); }

Var AdvancedSubtensor1(Var x, Var ilist) {
  GraphBuilder* b = internal::Check("advanced_subtensor1", {x, ilist});
  if (!b) return Var();
  if (x.ndim() < 1) return Fail(b, "advanced_subtensor1", "cannot index a 0-d tensor");
  if (ilist.ndim() != 1 || !IsInteger(ilist.dtype())) {
    return Fail(b, "advanced_subtensor1", "the index must be an integer vector");
  }
  std::vector<bool> broadcastable = x.broadcastable();
  broadcastable[0] = ilist.broadcastable()[0];
  return internal::Single(b, "advanced_subtensor1", {x, ilist}, {}, x.dtype(), broadcastable);
}

Var SetSubtensor(Var x_sub, Var y) { return Inc(x_sub, y, true); }
Var IncSubtensor(Var x_sub, Var y) { return Inc(x_sub, y, false); }

Var Take(Var a, Var indices, std::optional<int64_t> axis) {
  GraphBuilder* b = internal::Check("take", {a, indices});
  if (!b) return Var();
  if (!IsInteger(indices.dtype())) return Fail(b, "take", "indices must be integers");
  if (!axis) {
    a = Flatten(a);
    axis = 0;
  }
  absl::StatusOr<int64_t> ax = internal::NormalizeAxis("take", *axis, a.ndim());
  if (!ax.ok()) return b->Fail(ax.status());
  if (*ax == 0 && indices.ndim() == 1) return AdvancedSubtensor1(a, indices);
  IndexSpec index(*ax, Slice());
  index.push_back(indices);
  return GetItem(a, index);
}

}  // namespace tensord::client
