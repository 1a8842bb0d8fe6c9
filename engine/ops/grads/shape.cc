// Grad rules of the shape, creation and control ops: cast, dimshuffle, reshape, flatten, fill,
// alloc, join, make_vector, tile, repeat, arange and ifelse, in Theano's forms.
#include "engine/ops/grads/shape.h"

#include <algorithm>
#include <numeric>
#include <optional>

#include "engine/ops/defs/subtensor.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using subtensor::kIndexNone;
using subtensor::kIndexSymbolic;

int64_t IntAttr(const ir::Apply& node, const char* key, int64_t dflt = 0) {
  auto v = ir::GetAttr<int64_t>(node, key);
  return v.ok() ? *v : dflt;  // the node type-checked, so a required attr is there
}

Variable* Int64(NodeBuilder& b, int64_t v) {
  return b.Constant(static_cast<double>(v), DType::kInt64);
}

Variable* MakeShape(NodeBuilder& b, std::vector<Variable*> dims) {
  return b.Apply("make_vector", std::move(dims), {{"dtype", DType::kInt64}});
}

Variable* Reshape(NodeBuilder& b, Variable* x, Variable* shape, int ndim) {
  return b.Apply("reshape", {x, shape}, {{"ndim", static_cast<int64_t>(ndim)}});
}

}  // namespace

// Theano's Reshape/Flatten.grad: gz back in x's runtime shape.
Grads ReshapeGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Grads out(node.inputs.size(), nullptr);
  Variable* x = node.inputs[0];
  if (gz[0] != nullptr) out[0] = Reshape(b, gz[0], b.Shape(x), x->type.ndim());
  return out;
}

// Theano's DimShuffle.grad: the inverse permutation; the new 'x' dims are dropped and the
// dropped (broadcastable) input dims come back as 'x'.
Grads DimshuffleGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr};
  auto order = ir::GetIntsAttr(node, "new_order");
  if (!order.ok()) return {b.Fail(order.status())};
  Variable* g = gz[0];
  // An 'x' dim can only be dropped where g's type says it is broadcastable; the driver gives
  // g the output's pattern, but sum any other one to be safe (a size-1 sum).
  std::vector<int64_t> to_sum;
  for (size_t i = 0; i < order->size(); ++i)
    if ((*order)[i] == -1 && !g->type.broadcastable[i]) to_sum.push_back(static_cast<int64_t>(i));
  g = b.Sum(g, to_sum);
  std::vector<int64_t> grad_order(node.inputs[0]->type.ndim(), -1);
  int64_t pos = 0;  // position in g after the sum
  for (size_t i = 0; i < order->size(); ++i) {
    const int64_t o = (*order)[i];
    if (o == -1 && std::count(to_sum.begin(), to_sum.end(), static_cast<int64_t>(i))) continue;
    if (o != -1) grad_order[o] = pos;
    ++pos;
  }
  return {b.Dimshuffle(g, grad_order)};
}

// Theano's Cast.grad: gz itself (the driver casts it back to x's dtype). A cast to an integer
// has a discrete output, so no gradient ever reaches it.
Grads CastGrad(NodeBuilder&, const ir::Apply&, OutGrads gz) { return {gz[0]}; }

// fill(model, value): only value's elements reach the output; model gives just the shape.
Grads FillGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {nullptr, b.SumToLike(gz[0], node.inputs[1])};
}

// alloc(value, *dims): value's gradient sums gz over the broadcast dims; the dims only set the
// shape (disconnected, as Theano's Alloc.grad).
Grads AllocGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Grads out(node.inputs.size(), nullptr);
  out[0] = b.SumToLike(gz[0], node.inputs[0]);
  return out;
}

// join(*tensors; axis): input k gets gz[..., off_k : off_k + n_k] along the axis, with the
// offsets from the inputs' runtime shapes (Theano's Join.grad splits gz the same way).
Grads JoinGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  const size_t n = node.inputs.size();
  Grads out(n, nullptr);
  if (gz[0] == nullptr) return out;
  if (n == 1) return {gz[0]};
  const int ndim = node.inputs[0]->type.ndim();
  int64_t axis = IntAttr(node, "axis");
  if (axis < 0) axis += ndim;
  Variable* offset = nullptr;  // null: 0
  for (size_t k = 0; k < n; ++k) {
    Variable* x = node.inputs[k];
    Variable* stop = nullptr;  // null: the end, for the last input
    if (k + 1 < n) {
      Variable* len = b.ShapeI(x, axis);
      stop = offset == nullptr ? len : b.Add(offset, len);
    }
    if (IsFloat(x->type.dtype)) {
      std::vector<int64_t> idx;
      for (int64_t d = 0; d < axis; ++d)
        idx.insert(idx.end(), {1, kIndexNone, kIndexNone, kIndexNone});
      idx.insert(idx.end(), {1, offset ? kIndexSymbolic : kIndexNone,
                             stop ? kIndexSymbolic : kIndexNone, kIndexNone});
      std::vector<Variable*> inputs{gz[0]};
      if (offset) inputs.push_back(offset);
      if (stop) inputs.push_back(stop);
      out[k] = b.Apply("subtensor", inputs, {{"idx_list", idx}});
    }
    offset = stop;
  }
  return out;
}

// make_vector(*scalars): input i gets gz[i].
Grads MakeVectorGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Grads out(node.inputs.size(), nullptr);
  if (gz[0] == nullptr) return out;
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    std::vector<int64_t> idx{0, static_cast<int64_t>(i), 0, 0};
    out[i] = b.Apply("subtensor", {gz[0]}, {{"idx_list", idx}});
  }
  return out;
}

namespace {

// The product of scalars (1 for none): a runtime size.
Variable* Product(NodeBuilder& b, const std::vector<Variable*>& v) {
  if (v.empty()) return Int64(b, 1);
  return v.size() == 1 ? v[0] : b.Apply("mul", v);
}

}  // namespace

// tile(x; reps): output dim d holds reps[d] copies of x's dim (size s): gz regrouped as
// (reps[d], s) per repeated dim and summed over the copies.
Grads TileGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* g = gz[0];
  if (g == nullptr) return {nullptr};
  auto reps_or = ir::GetIntsAttr(node, "reps");
  if (!reps_or.ok()) return {b.Fail(reps_or.status())};
  std::vector<int64_t> reps = *reps_or;
  const int xnd = x->type.ndim();
  if (static_cast<int>(reps.size()) < xnd) reps.insert(reps.begin(), xnd - reps.size(), 1);
  const int nd = static_cast<int>(reps.size());
  const int lead = nd - xnd;  // new leading dims (size 1 in x)
  auto size = [&](int d) { return d < lead ? Int64(b, 1) : b.ShapeI(x, d - lead); };
  const int tiled =
      static_cast<int>(std::count_if(reps.begin(), reps.end(), [](int64_t r) { return r != 1; }));
  if (tiled == 0 && lead == 0) return {g};
  if (nd + tiled <= ir::kMaxRank) {
    std::vector<Variable*> dims;
    std::vector<int64_t> axes;  // the copies' dims and the new leading dims, summed away
    for (int d = 0; d < nd; ++d) {
      if (reps[d] != 1) {
        axes.push_back(static_cast<int64_t>(dims.size()));
        dims.push_back(Int64(b, reps[d]));
      }
      if (d < lead) axes.push_back(static_cast<int64_t>(dims.size()));
      dims.push_back(size(d));
    }
    g = Reshape(b, g, MakeShape(b, dims), static_cast<int>(dims.size()));
    return {b.Sum(g, axes)};
  }
  // Too many dims to split them all at once: one tiled dim at a time, as (before, reps, rest).
  for (int d = 0; d < nd; ++d) {
    if (reps[d] == 1) continue;
    std::vector<Variable*> before, after, full;
    for (int e = 0; e < nd; ++e) {
      if (e < d) before.push_back(b.ShapeI(g, e));
      if (e > d) after.push_back(b.ShapeI(g, e));
      full.push_back(e == d ? size(d) : b.ShapeI(g, e));
    }
    after.push_back(size(d));
    Variable* grouped =
        Reshape(b, g, MakeShape(b, {Product(b, before), Int64(b, reps[d]), Product(b, after)}), 3);
    g = Reshape(b, b.Sum(grouped, {1}), MakeShape(b, full), nd);
  }
  std::vector<int64_t> leading(lead);
  std::iota(leading.begin(), leading.end(), 0);
  return {b.Sum(g, leading)};
}

namespace {

// The repeat axis attr, normalized; nullopt for axis=None (x flattened).
std::optional<int64_t> RepeatAxis(const ir::Apply& node) {
  if (!node.attrs.count("axis")) return std::nullopt;
  int64_t axis = IntAttr(node, "axis");
  return axis < 0 ? axis + node.inputs[0]->type.ndim() : axis;
}

}  // namespace

// repeat(x, repeats; axis). A scalar count: Theano's RepeatOp.grad, gz regrouped as
// (..., n, repeats, ...) and summed over the copies. A vector of counts: the copies of
// element i sit at the positions where repeat(arange(n), repeats) == i, so gz is scattered
// back with an accumulating advanced_inc_subtensor (segment sums).
Grads RepeatGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* repeats = node.inputs[1];
  Variable* g = gz[0];
  if (g == nullptr) return {nullptr, nullptr};
  const std::optional<int64_t> axis = RepeatAxis(node);
  const int xnd = x->type.ndim();
  if (repeats->type.ndim() == 0) {
    const int64_t at = axis.has_value() ? *axis + 1 : xnd;
    std::vector<Variable*> dims;
    for (int d = 0; d < xnd; ++d) dims.push_back(b.ShapeI(x, d));
    dims.insert(dims.begin() + at, b.Cast(repeats, DType::kInt64));
    return {b.Sum(Reshape(b, g, MakeShape(b, dims), xnd + 1), {at}), nullptr};
  }
  Variable* target = axis.has_value() ? x : b.Apply("flatten", {x}, {{"ndim", int64_t{1}}});
  const int64_t a = axis.value_or(0);
  Variable* n = b.ShapeI(target, a);
  Variable* positions =
      b.Apply("arange", {Int64(b, 0), n, Int64(b, 1)}, {{"dtype", DType::kInt64}});
  Variable* index = b.Apply("repeat", {positions, repeats});
  Variable* zeros = b.Fill(target, b.Constant(0, g->type.dtype));
  Variable* gx;
  if (a == 0) {
    gx = b.Apply("advanced_inc_subtensor1", {zeros, g, index});
  } else {
    std::vector<int64_t> idx;
    for (int64_t d = 0; d < a; ++d) idx.insert(idx.end(), {1, kIndexNone, kIndexNone, kIndexNone});
    idx.insert(idx.end(), {2, 0, 0, 0});
    gx = b.Apply("advanced_inc_subtensor", {zeros, g, index}, {{"idx_list", idx}});
  }
  if (!axis.has_value()) gx = Reshape(b, gx, b.Shape(x), xnd);
  return {gx, nullptr};
}

// Theano's ARange.grad: out[i] = start + i * step, so d/dstart = sum(gz) and
// d/dstep = sum(gz * arange(len)); stop only sets the length (disconnected). An integer
// arange has a discrete output, so no gradient reaches it.
Grads ArangeGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* g = gz[0];
  if (g == nullptr) return {nullptr, nullptr, nullptr};
  Variable* out = node.outputs[0];
  Variable* steps =
      b.Apply("arange", {Int64(b, 0), b.ShapeI(out, 0), Int64(b, 1)}, {{"dtype", out->type.dtype}});
  return {b.Sum(g, {0}), nullptr, b.Sum(b.Mul(g, steps), {0})};
}

// ifelse(cond, *then, *else): then_i gets gz_i if cond else zeros shaped like then_i, and
// else_i the converse (Theano's IfElse.grad), all from one ifelse node. The zeros take the
// branch's own shape: the two branches may differ in shape at run time. cond gets nothing.
Grads IfElseGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  const size_t n = node.outputs.size();
  Grads out(node.inputs.size(), nullptr);
  std::vector<size_t> live;
  std::vector<Variable*> then_side, else_side;
  for (size_t i = 0; i < n; ++i) {
    if (gz[i] == nullptr) continue;
    live.push_back(i);
    Variable* zero = b.Constant(0, gz[i]->type.dtype);
    then_side.push_back(gz[i]);
    else_side.push_back(b.Fill(node.inputs[1 + i], zero));
  }
  if (live.empty()) return out;
  for (size_t k = 0; k < live.size(); ++k) {
    const size_t i = live[k];
    then_side.push_back(b.Fill(node.inputs[1 + n + i], b.Constant(0, gz[i]->type.dtype)));
    else_side.push_back(gz[i]);
  }
  std::vector<Variable*> inputs{node.inputs[0]};
  inputs.insert(inputs.end(), then_side.begin(), then_side.end());
  inputs.insert(inputs.end(), else_side.begin(), else_side.end());
  std::vector<Variable*> g = b.ApplyMulti("ifelse", inputs);
  if (g.size() != 2 * live.size()) return out;  // a build failure, recorded in b.status()
  for (size_t k = 0; k < live.size(); ++k) {
    out[1 + live[k]] = g[k];
    out[1 + n + live[k]] = g[live.size() + k];
  }
  return out;
}

}  // namespace tensord::ops
