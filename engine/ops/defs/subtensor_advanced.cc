// Advanced (integer-array and boolean-mask) indexing with NumPy's rules: index arrays broadcast
// together; their dims replace the indexed dims in place when the arrays are adjacent, else
// they come first; slices mixed in keep their dims. advanced_subtensor1 (x[ilist] on axis 0)
// and its inc are the one-array case. Inc ops apply elements in index order, so a repeated
// index accumulates (numpy.add.at) and, with set_instead_of_inc, the last write wins (on a GPU
// one of the writes, which one undefined, as in Theano).
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/subtensor.h"
#include "engine/ops/grads/subtensor.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Shape;
using runtime::Strides;
using runtime::Tensor;
using subtensor::Entry;
using subtensor::Kind;

// idx_list of advanced_subtensor1 and its inc: one index array on axis 0.
std::vector<Entry> OneArray(int input) {
  Entry e;
  e.kind = Kind::kArray;
  e.input = input;
  return {e};
}

// NumPy's result layout, on types: broadcast index dims, slice dims before and after them.
ir::Type AdvancedIndexType(const ir::Apply& node, const std::vector<Entry>& entries) {
  const ir::Type& x = node.inputs[0]->type;
  std::vector<bool> before, after, index;
  std::vector<std::vector<bool>> arrays;
  int d = 0;
  for (const Entry& e : entries) {
    if (e.kind == Kind::kSlice) {
      (arrays.empty() ? before : after)
          .push_back(x.broadcastable[d] && subtensor::SliceKeepsBroadcastable(e));
      ++d;
    } else {
      const ir::Type& t = node.inputs[e.input]->type;
      // A boolean mask becomes its nonzero() arrays: one dim of unknown length.
      arrays.push_back(t.dtype == DType::kBool ? std::vector<bool>{false} : t.broadcastable);
      d += t.dtype == DType::kBool ? t.ndim() : 1;
    }
  }
  for (; d < x.ndim(); ++d) after.push_back(x.broadcastable[d]);
  size_t nd = 0;
  for (const auto& a : arrays) nd = std::max(nd, a.size());
  for (size_t j = 0; j < nd; ++j) {
    bool b = true;
    for (const auto& a : arrays)
      if (j + a.size() >= nd) b = b && a[j + a.size() - nd];
    index.push_back(b);
  }
  ir::Type out{x.dtype, {}};
  auto append = [&](const std::vector<bool>& v) {
    out.broadcastable.insert(out.broadcastable.end(), v.begin(), v.end());
  };
  if (ArraysAdjacent(entries)) {
    append(before), append(index), append(after);
  } else {
    append(index), append(before), append(after);
  }
  return out;
}

absl::StatusOr<std::vector<ir::Type>> InferAdvanced(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::Entries(node, 1));
  if (node.inputs[0]->type.dtype == DType::kFloat16) return Unimplemented("float16");
  if (node.op == "advanced_subtensor1") {
    ir::Type out = node.inputs[0]->type;
    out.broadcastable[0] = node.inputs[1]->type.broadcastable[0];
    return std::vector<ir::Type>{out};
  }
  return std::vector<ir::Type>{AdvancedIndexType(node, entries)};
}

absl::StatusOr<std::vector<ir::Type>> InferAdvancedInc(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::Entries(node, 2));
  const ir::Type& y = node.inputs[1]->type;
  const int indexed = AdvancedIndexType(node, entries).ndim();
  if (y.ndim() > indexed) {
    return InvalidArgument(node.op, ": cannot assign a value of rank ", y.ndim(), " (",
                           ir::TypeString(y), ") to a subtensor of rank ", indexed);
  }
  if (node.inputs[0]->type.dtype == DType::kFloat16 || y.dtype == DType::kFloat16) {
    return Unimplemented("float16 is not supported yet");
  }
  return std::vector<ir::Type>{node.inputs[0]->type};
}

// `counterpart`: the read an inc's gradient uses, or the inc a read's gradient scatters with.
OpDef AdvancedDef(std::string name, bool inc, std::string counterpart, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = inc ? 3 : 2;
  d.max_inputs = -1;
  d.doc = std::move(doc);
  d.infer_types = inc ? InferAdvancedInc : InferAdvanced;
  if (inc) d.input_dtypes = subtensor::ValueAsX;
  d.grad = inc ? IndexIncGrad(std::move(counterpart)) : IndexReadGrad(std::move(counterpart));
  // An inc gives x's shape; x[ilist] on axis 0 has ilist's length there. The general advanced
  // read's shape depends on how its index arrays broadcast and where they sit: no rule.
  d.attrs = inc ? std::vector<std::string>{"idx_list", "set_instead_of_inc"}
                : std::vector<std::string>{"idx_list"};
  if (inc) {
    d.infer_shape = ShapeOfInput(0);
  } else if (d.name == "advanced_subtensor1") {
    d.infer_shape = [](NodeBuilder&, const ir::Apply&, std::span<const SymbolicShape> in) {
      SymbolicShape out = in[0];
      out[0] = in[1][0];
      return std::vector<SymbolicShape>{out};
    };
  }
  return d;
}

}  // namespace

namespace subtensor {

bool ArraysAdjacent(const std::vector<Entry>& entries) {
  int first = -1, last = -1, count = 0;
  for (int i = 0; i < static_cast<int>(entries.size()); ++i) {
    if (entries[i].kind != Kind::kArray) continue;
    if (first < 0) first = i;
    last = i;
    ++count;
  }
  return count == 0 || last - first + 1 == count;
}

absl::StatusOr<std::vector<Entry>> Entries(const ir::Apply& node, int first_index) {
  if (node.op == "advanced_subtensor1" || node.op == "advanced_inc_subtensor1") {
    const ir::Type& x = node.inputs[0]->type;
    const ir::Type& ilist = node.inputs[first_index]->type;
    if (static_cast<int>(node.inputs.size()) != first_index + 1) {
      return InvalidArgument(node.op, " takes exactly one index vector");
    }
    if (!IsInteger(ilist.dtype) || ilist.ndim() != 1) {
      return InvalidArgument(node.op, ": the index must be an integer vector, got ",
                             ir::TypeString(ilist));
    }
    if (x.ndim() < 1) return InvalidArgument(node.op, ": cannot index a 0-d tensor");
    return OneArray(first_index);
  }
  TENSORD_ASSIGN_OR_RETURN(auto entries, subtensor::ParseIndex(node, first_index, true));
  for (const Entry& e : entries) {
    if (e.kind == Kind::kInt) {
      return InvalidArgument(node.op, ": encode integer indices as 0-d index arrays");
    }
  }
  return entries;
}

}  // namespace subtensor

void RegisterAdvancedSubtensor(Registry& r) {
  r.Add(AdvancedDef("advanced_subtensor1", false, "advanced_inc_subtensor1",
                    "advanced_subtensor1(x, ilist): x[ilist] on axis 0 (numpy.take(x, ilist, 0))"));
  r.Add(AdvancedDef("advanced_subtensor", false, "advanced_inc_subtensor",
                    "advanced_subtensor(x, *arrays; idx_list): integer-array / boolean-mask "
                    "indexing mixed with slices (numpy advanced indexing)"));
  r.Add(AdvancedDef(
      "advanced_inc_subtensor1", true, "advanced_subtensor1",
      "advanced_inc_subtensor1(x, y, ilist; set_instead_of_inc): a copy of x with "
      "x[ilist] += y (repeats accumulate, numpy.add.at) or = y (last write wins; on a GPU, "
      "one of them)"));
  r.Add(AdvancedDef("advanced_inc_subtensor", true, "advanced_subtensor",
                    "advanced_inc_subtensor(x, y, *arrays; idx_list, set_instead_of_inc): "
                    "advanced_subtensor's selection incremented (numpy.add.at) or set"));
}

}  // namespace tensord::ops
