#include "engine/ops/defs/shape_rules.h"

#include <algorithm>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {

SymbolicShape BroadcastDims(NodeBuilder& b, std::span<const SymbolicShape> shapes,
                            std::span<const std::vector<bool>> broadcastable, int ndim) {
  SymbolicShape out;
  for (int d = 0; d < ndim; ++d) {
    std::vector<ir::Variable*> candidates;  // distinct non-broadcastable dims
    for (size_t k = 0; k < shapes.size(); ++k) {
      const int pos = d - (ndim - static_cast<int>(shapes[k].size()));
      if (pos < 0 || broadcastable[k][pos]) continue;
      ir::Variable* dim = shapes[k][pos];
      if (std::find(candidates.begin(), candidates.end(), dim) == candidates.end())
        candidates.push_back(dim);
    }
    if (candidates.empty()) {
      out.push_back(b.Constant(1, DType::kInt64));
      continue;
    }
    // Dims agree or are 1 at run time (the kernel checks): the first that is not 1 wins, which
    // also keeps a 0 against a 1.
    ir::Variable* dim = candidates[0];
    for (size_t k = 1; k < candidates.size(); ++k) {
      ir::Variable* is_one = b.Apply("eq", {candidates[k], b.Constant(1, DType::kInt64)});
      dim = b.Switch(is_one, dim, candidates[k]);
    }
    out.push_back(dim);
  }
  return out;
}

std::vector<SymbolicShape> BroadcastShape(NodeBuilder& b, const ir::Apply& node,
                                          std::span<const SymbolicShape> in) {
  std::vector<std::vector<bool>> broadcastable;
  for (const ir::Variable* v : node.inputs) broadcastable.push_back(v->type.broadcastable);
  SymbolicShape out = BroadcastDims(b, in, broadcastable, node.outputs[0]->type.ndim());
  return std::vector<SymbolicShape>(node.outputs.size(), out);
}

InferShapeFn ShapeOfInput(int k) {
  return [k](NodeBuilder&, const ir::Apply& node, std::span<const SymbolicShape> in) {
    return std::vector<SymbolicShape>(node.outputs.size(), in[k]);
  };
}

std::vector<SymbolicShape> ReducedShape(NodeBuilder&, const ir::Apply& node,
                                        std::span<const SymbolicShape> in) {
  absl::StatusOr<std::vector<int64_t>> axes = ReducedAxes(node);
  if (!axes.ok()) return {};
  SymbolicShape out;
  for (size_t d = 0; d < in[0].size(); ++d) {
    if (std::find(axes->begin(), axes->end(), static_cast<int64_t>(d)) == axes->end())
      out.push_back(in[0][d]);
  }
  return std::vector<SymbolicShape>(node.outputs.size(), out);
}

ir::Variable* DimsProduct(NodeBuilder& b, std::span<ir::Variable* const> dims) {
  if (dims.empty()) return b.Constant(1, DType::kInt64);
  if (dims.size() == 1) return dims[0];
  return b.Apply("mul", {dims.begin(), dims.end()});
}

SymbolicShape VectorEntries(NodeBuilder& b, const ir::Variable* v) {
  SymbolicShape out;
  if (v->source == ir::Source::kConstant) {
    absl::StatusOr<std::vector<int64_t>> values = ReadInts(v->constant, "a shape");
    if (!values.ok()) return {};
    for (int64_t d : *values) out.push_back(b.Constant(static_cast<double>(d), DType::kInt64));
  } else if (v->owner != nullptr && v->owner->op == "make_vector") {
    for (ir::Variable* d : v->owner->inputs) out.push_back(b.Cast(d, DType::kInt64));
  } else if (v->owner != nullptr && v->owner->op == "shape") {
    for (int d = 0; d < v->owner->inputs[0]->type.ndim(); ++d)
      out.push_back(b.ShapeI(v->owner->inputs[0], d));
  }
  return out;
}

}  // namespace tensord::ops
