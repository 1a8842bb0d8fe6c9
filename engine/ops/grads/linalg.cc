// Grad rules of the contractions (dot, tensordot, batched_dot, batched_tensordot). All four are
// out[batch, free_a..., free_b...] = sum over the paired axes of a * b, so one rule serves
// them: each operand's gradient contracts gz with the other operand over that operand's free
// axes (tensordot, or batched_tensordot keeping the batch axis), then a dimshuffle puts the
// result's dims back in the operand's order.
#include "engine/ops/grads/linalg.h"

#include <algorithm>
#include <numeric>

#include "engine/ops/node_builder.h"

namespace tensord::ops {
namespace {

using ir::Variable;
using Axes = std::vector<int64_t>;

// The summed axes of a node (normalized, paired in order), as engine/ops/defs/linalg.cc reads
// them; the node type-checked, so the attrs are valid.
struct Contraction {
  bool batched = false;
  Axes axes_a, axes_b;
};

Contraction Describe(const ir::Apply& node) {
  const int na = node.inputs[0]->type.ndim(), nb = node.inputs[1]->type.ndim();
  Contraction c;
  c.batched = node.op == "batched_dot" || node.op == "batched_tensordot";
  if (node.op == "dot") {
    if (na > 0 && nb > 0) c.axes_a = {na - 1}, c.axes_b = {nb >= 2 ? nb - 2 : 0};
  } else if (node.op == "batched_dot") {
    c.axes_a = {na - 1};
    c.axes_b = {std::max(1, nb - 2)};
  } else {
    c.axes_a = ir::GetIntsAttr(node, "axes_a").value_or(Axes{});
    c.axes_b = ir::GetIntsAttr(node, "axes_b").value_or(Axes{});
    for (int64_t& a : c.axes_a) a += a < 0 ? na : 0;
    for (int64_t& a : c.axes_b) a += a < 0 ? nb : 0;
  }
  return c;
}

// The axes of an operand that reach the output (not batch, not summed), in order.
Axes FreeAxes(int ndim, bool batched, const Axes& summed) {
  Axes free;
  for (int d = batched ? 1 : 0; d < ndim; ++d)
    if (std::find(summed.begin(), summed.end(), d) == summed.end()) free.push_back(d);
  return free;
}

// partner[k] for the summed axes taken in increasing order of own[k]: the order in which a
// contraction leaves the operand's summed axes.
Axes PartnersInOrder(const Axes& own, const Axes& partner) {
  std::vector<size_t> k(own.size());
  std::iota(k.begin(), k.end(), 0);
  std::sort(k.begin(), k.end(), [&](size_t i, size_t j) { return own[i] < own[j]; });
  Axes out;
  for (size_t i : k) out.push_back(partner[i]);
  return out;
}

// x and y contracted over the paired axes (per item of axis 0 when batched): dims [batch],
// x's remaining dims, y's remaining dims.
Variable* Contract(NodeBuilder& b, bool batched, Variable* x, Variable* y, const Axes& ax,
                   const Axes& ay) {
  const int nx = x->type.ndim(), ny = y->type.ndim();
  if (batched && (nx < 2 || ny < 2)) {
    // batched_tensordot needs rank >= 2; a rank-1 operand (gz of a batched vector product)
    // is the batch axis alone and nothing is summed: a broadcast product per batch item.
    Axes ox(nx + ny - 1, -1), oy(nx + ny - 1, -1);
    for (int d = 0; d < nx; ++d) ox[d] = d;
    oy[0] = 0;
    for (int d = 1; d < ny; ++d) oy[nx - 1 + d] = d;
    return b.Mul(b.Dimshuffle(x, ox), b.Dimshuffle(y, oy));
  }
  return b.Apply(batched ? "batched_tensordot" : "tensordot", {x, y},
                 {{"axes_a", ax}, {"axes_b", ay}});
}

// `raw`, whose dim i is the operand's dim dims[i], dimshuffled into the operand's order.
Variable* InOperandOrder(NodeBuilder& b, Variable* raw, const Axes& dims) {
  Axes order(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) order[dims[i]] = static_cast<int64_t>(i);
  bool identity = true;
  for (size_t d = 0; d < order.size(); ++d) identity &= order[d] == static_cast<int64_t>(d);
  return identity ? raw : b.Dimshuffle(raw, order);
}

}  // namespace

Grads ContractionGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  Variable* a = node.inputs[0];
  Variable* y = node.inputs[1];
  const Contraction c = Describe(node);
  const Axes free_a = FreeAxes(a->type.ndim(), c.batched, c.axes_a);
  const Axes free_b = FreeAxes(y->type.ndim(), c.batched, c.axes_b);
  // Where each operand's free axes sit in gz: [batch], free_a..., free_b...
  const int64_t first_a = c.batched ? 1 : 0;
  const int64_t first_b = first_a + static_cast<int64_t>(free_a.size());
  Axes in_gz_a(free_a.size()), in_gz_b(free_b.size());
  std::iota(in_gz_a.begin(), in_gz_a.end(), first_a);
  std::iota(in_gz_b.begin(), in_gz_b.end(), first_b);
  const Axes batch = c.batched ? Axes{0} : Axes{};

  Grads out(2, nullptr);  // integer operands get no gradient
  if (IsFloat(a->type.dtype)) {
    // dims: [batch], free_a, then y's summed axes in y's order, i.e. their partners in a.
    Axes dims = batch;
    dims.insert(dims.end(), free_a.begin(), free_a.end());
    for (int64_t d : PartnersInOrder(c.axes_b, c.axes_a)) dims.push_back(d);
    out[0] = InOperandOrder(b, Contract(b, c.batched, gz[0], y, in_gz_b, free_b), dims);
  }
  if (IsFloat(y->type.dtype)) {
    // dims: [batch], a's summed axes in a's order (their partners in y), then free_b.
    Axes dims = batch;
    for (int64_t d : PartnersInOrder(c.axes_a, c.axes_b)) dims.push_back(d);
    dims.insert(dims.end(), free_b.begin(), free_b.end());
    out[1] = InOperandOrder(b, Contract(b, c.batched, a, gz[0], free_a, in_gz_a), dims);
  }
  return out;
}

}  // namespace tensord::ops
