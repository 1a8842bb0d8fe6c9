// Grad rules of the reductions (sum, prod, max, min, max_and_argmax, mean, var, std), the scans
// (cumop) and sort, in Theano's forms. Every gradient is built from differentiable ops, so
// second derivatives work.
#include "engine/ops/grads/reductions.h"

#include "engine/ops/defs/reduce_util.h"
#include "engine/ops/defs/subtensor.h"
#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;

// gz (the reduced shape) with the reduced axes put back as broadcastable dims.
Variable* ExpandReduced(NodeBuilder& b, const ir::Apply& node, Variable* gz) {
  auto axes = ReducedAxes(node);
  if (!axes.ok()) return b.Fail(axes.status());
  return b.ExpandDims(gz, *axes, node.inputs[0]->type.ndim());
}

// The node's `axis` attr alone, for building another reduction over the same axes.
ir::Attrs AxisAttrs(const ir::Apply& node) {
  auto it = node.attrs.find("axis");
  if (it == node.attrs.end()) return {};
  return {{"axis", it->second}};
}

// How many elements each output element reduces (int64, from x's runtime shape).
Variable* ReducedCount(NodeBuilder& b, const ir::Apply& node) {
  auto axes = ReducedAxes(node);
  Variable* n = b.Constant(1, DType::kInt64);
  for (int64_t a : axes.ok() ? *axes : std::vector<int64_t>{})
    n = b.Mul(n, b.ShapeI(node.inputs[0], a));
  return n;
}

}  // namespace

// Theano's Sum.grad: gz broadcast back over the summed axes (fill(x, gz.dimshuffle(...))).
Grads SumGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  return {b.Fill(node.inputs[0], ExpandReduced(b, node, gz[0]))};
}

// Theano's Max/MaxAndArgmax grad: eq(x, max_padded) * gz_padded, so tied maxima each get the
// full gz. Also min (the same with its own output); the argmax output has no gradient.
Grads MaxGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr};
  Variable* g = ExpandReduced(b, node, gz[0]);
  Variable* is_max = b.Apply("eq", {node.inputs[0], ExpandReduced(b, node, node.outputs[0])});
  return {b.Mul(b.Cast(is_max, g->type.dtype), g)};
}

// d prod / d x_i = product of the other elements, zero-safe (Theano's no_zeros_in_input=False)
// and differentiable again at zeros, so hessians are exact there too. With P the product of
// the nonzero elements and Z the product of the zero ones (0 if there are any, but with the
// right derivative with respect to them):
//   x_i != 0:  P / x_i * Z
//   x_i == 0:  P * (product of the *other* zeros): 1 with one zero, the other zero itself with
//              two (written S - x_i, S the sum of the zero elements), 0 with more.
Grads ProdGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  Variable* is_zero = b.Apply("eq", {x, b.ConstantLike(0, x)});
  Variable* one = b.ConstantLike(1, x);
  Variable* zero = b.ConstantLike(0, x);
  Variable* x_safe = b.Switch(is_zero, one, x);
  Variable* p = ExpandReduced(b, node, b.Apply("prod", {x_safe}, node.attrs));
  Variable* z = ExpandReduced(b, node, b.Apply("prod", {b.Switch(is_zero, x, one)}, node.attrs));
  Variable* s =
      ExpandReduced(b, node, b.Apply("sum", {b.Switch(is_zero, x, zero)}, AxisAttrs(node)));
  Variable* zeros = ExpandReduced(b, node, b.Apply("sum", {is_zero}, AxisAttrs(node)));
  auto zeros_are = [&](int n) { return b.Apply("eq", {zeros, b.Constant(n, zeros->type.dtype)}); };
  Variable* other_zeros = b.Switch(zeros_are(1), one, b.Switch(zeros_are(2), b.Sub(s, x), zero));
  Variable* g = b.Switch(is_zero, b.Mul(p, other_zeros), b.Mul(b.Div(p, x_safe), z));
  return {b.Mul(ExpandReduced(b, node, gz[0]), g)};
}

Grads MeanGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* n = b.Cast(ReducedCount(b, node), gz[0]->type.dtype);
  return {b.Fill(node.inputs[0], b.Div(ExpandReduced(b, node, gz[0]), n))};
}

// var = sum((x - mean)^2) / max(n - ddof, 0), so dvar/dx = 2 (x - mean) / max(n - ddof, 0).
// Theano's `corrected` term, (sum of deviations)^2 / n, is identically zero as a function of
// x (it only cancels rounding), so its derivative is 0. std = sqrt(var): gz / (2 std) * dvar.
Grads MomentGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  const DType dtype = gz[0]->type.dtype;
  const int64_t ddof = ir::GetAttr<int64_t>(node, "ddof").value_or(0);  // absent: 0
  Variable* denom =
      b.Apply("maximum", {b.Sub(ReducedCount(b, node), b.Constant(ddof, DType::kInt64)),
                          b.Constant(0, DType::kInt64)});
  denom = b.Cast(denom, dtype);
  Variable* dev = b.Sub(x, ExpandReduced(b, node, b.Apply("mean", {x}, AxisAttrs(node))));
  Variable* scale = node.op == "var" ? b.Div(b.Constant(2, dtype), denom)
                                     : b.Div(b.Constant(1, dtype),
                                             b.Mul(denom, ExpandReduced(b, node, node.outputs[0])));
  return {b.Mul(b.Mul(ExpandReduced(b, node, gz[0]), dev), scale)};
}

namespace {

// v[..., ::-1, ...] along `axis` (a subtensor view with a step -1 slice).
Variable* Reverse(NodeBuilder& b, Variable* v, int64_t axis) {
  using subtensor::kIndexNone;
  std::vector<int64_t> idx;
  for (int64_t d = 0; d <= axis; ++d)
    idx.insert(idx.end(), {1, kIndexNone, kIndexNone, d == axis ? -1 : kIndexNone});
  return b.Apply("subtensor", {v}, {{"idx_list", idx}});
}

}  // namespace

// Theano's CumOp.grad: add: the reversed cumulative sum of gz; mul: cumsum((gz * out)
// reversed) reversed / x. axis None scanned the flattened x: reshape back to x's shape.
Grads CumopGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  const bool multiply = ir::GetAttr<std::string>(node, "mode").value_or("add") == "mul";
  const bool flat = !node.attrs.count("axis");
  // The output's scanned axis: a flattened output is a vector.
  int64_t axis = flat ? 0 : ir::GetIntsAttr(node, "axis").value_or(std::vector<int64_t>{0})[0];
  if (axis < 0) axis += x->type.ndim();
  Variable* g = multiply ? b.Mul(gz[0], node.outputs[0]) : gz[0];
  g = b.Apply("cumop", {Reverse(b, g, axis)}, {{"axis", axis}, {"mode", std::string("add")}});
  g = Reverse(b, g, axis);
  if (flat) g = b.Apply("reshape", {g, b.Shape(x)}, {{"ndim", int64_t{x->type.ndim()}}});
  return {multiply ? b.Div(g, x) : g};
}

// Theano's SortOp grad: gz routed back through the inverse permutation, gz[inv] along the axis
// with inv = argsort(argsort(x)) (both stable, as sort is), the other dims indexed by aranges.
Grads SortGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* x = node.inputs[0];
  const int nd = x->type.ndim();
  int64_t axis = ir::GetAttr<int64_t>(node, "axis").value_or(0);
  if (axis < 0) axis += nd;
  Variable* perm = b.Apply("argsort", {x}, {{"axis", axis}});
  std::vector<Variable*> inputs{gz[0]};
  std::vector<int64_t> idx;
  for (int d = 0; d < nd; ++d) {
    idx.insert(idx.end(), {2, 0, 0, 0});
    if (d == axis) {
      inputs.push_back(b.Apply("argsort", {perm}, {{"axis", axis}}));
      continue;
    }
    Variable* range = b.Apply(
        "arange", {b.Constant(0, DType::kInt64), b.ShapeI(x, d), b.Constant(1, DType::kInt64)},
        {{"dtype", DType::kInt64}});
    std::vector<int64_t> order(nd, -1);
    order[d] = 0;
    inputs.push_back(b.Dimshuffle(range, order));
  }
  return {b.Apply("advanced_subtensor", inputs, {{"idx_list", idx}})};
}

}  // namespace tensord::ops
