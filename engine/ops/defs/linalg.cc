// Tensor contractions: dot (every rank pair numpy.dot allows), tensordot, batched_dot and
// batched_tensordot share one kernel. Each operand is viewed as a batch of matrices (batch x
// free x summed for a, batch x summed x free for b) through strides where the layout allows it,
// so transposed views reach BLAS (OpenBLAS' sgemm/dgemm) with trans flags instead of copies.
// Integer dtypes, which BLAS lacks, use an i-k-j loop over the strided operands.
#include "engine/ops/defs/linalg.h"

#include <cblas.h>

#include <cstring>
#include <numeric>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/grads/linalg.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Shape;
using runtime::Strides;
using runtime::Tensor;

absl::StatusOr<std::vector<ir::Type>> InferContraction(const ir::Apply& node) {
  const ir::Type& a = node.inputs[0]->type;
  const ir::Type& b = node.inputs[1]->type;
  TENSORD_ASSIGN_OR_RETURN(Contraction c, GetContraction(node));
  ir::Type out{Promote(a.dtype, b.dtype), {}};
  if (out.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  // Theano's BatchedDot: the batch dim is broadcastable when either operand's is.
  if (c.batched) out.broadcastable.push_back(a.broadcastable[0] || b.broadcastable[0]);
  for (int d : FreeAxes(a.ndim(), c.batched, c.axes_a))
    out.broadcastable.push_back(a.broadcastable[d]);
  for (int d : FreeAxes(b.ndim(), c.batched, c.axes_b))
    out.broadcastable.push_back(b.broadcastable[d]);
  return std::vector<ir::Type>{out};
}

// [batch], a's free dims, b's free dims; the batch dim is the operand's that is not broadcastable.
std::vector<SymbolicShape> ContractionShape(NodeBuilder&, const ir::Apply& node,
                                            std::span<const SymbolicShape> in) {
  absl::StatusOr<Contraction> c = GetContraction(node);
  if (!c.ok()) return {};
  SymbolicShape out;
  if (c->batched) out.push_back(node.inputs[0]->type.broadcastable[0] ? in[1][0] : in[0][0]);
  const int na = static_cast<int>(in[0].size()), nb = static_cast<int>(in[1].size());
  for (int d : FreeAxes(na, c->batched, c->axes_a)) out.push_back(in[0][d]);
  for (int d : FreeAxes(nb, c->batched, c->axes_b)) out.push_back(in[1][d]);
  return {out};
}

OpDef ContractionDef(std::string name, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = d.max_inputs = 2;
  d.doc = std::move(doc);
  d.infer_types = InferContraction;
  d.input_dtypes = AllInputsAsOutput;
  d.grad = ContractionGrad;
  d.infer_shape = ContractionShape;
  if (d.name == "tensordot" || d.name == "batched_tensordot") d.attrs = {"axes_a", "axes_b"};
  return d;
}

}  // namespace

std::vector<int> FreeAxes(int ndim, bool batched, const std::vector<int64_t>& summed) {
  std::vector<int> free;
  for (int d = batched ? 1 : 0; d < ndim; ++d)
    if (std::find(summed.begin(), summed.end(), d) == summed.end()) free.push_back(d);
  return free;
}

// The contraction a node describes, checked against its input types.
absl::StatusOr<Contraction> GetContraction(const ir::Apply& node) {
  const int na = node.inputs[0]->type.ndim(), nb = node.inputs[1]->type.ndim();
  Contraction c;
  c.batched = node.op == "batched_dot" || node.op == "batched_tensordot";
  if (c.batched && (na < 2 || nb < 2)) {
    return InvalidArgument(node.op, " needs operands of rank >= 2 (axis 0 is the batch), got ",
                           ir::TypeString(node.inputs[0]->type), " and ",
                           ir::TypeString(node.inputs[1]->type));
  }
  if (node.op == "dot") {
    // numpy.dot: a's last axis with b's second-to-last (its only one for a vector); a 0-d
    // operand sums nothing, which makes the product elementwise.
    if (na > 0 && nb > 0) c.axes_a = {na - 1}, c.axes_b = {nb >= 2 ? nb - 2 : 0};
    return c;
  }
  if (node.op == "batched_dot") {
    c.axes_a = {na - 1};
    c.axes_b = {std::max(1, nb - 2)};
    return c;
  }
  TENSORD_ASSIGN_OR_RETURN(c.axes_a, ir::GetIntsAttr(node, "axes_a"));
  TENSORD_ASSIGN_OR_RETURN(c.axes_b, ir::GetIntsAttr(node, "axes_b"));
  if (c.axes_a.size() != c.axes_b.size()) {
    return InvalidArgument(node.op, ": axes_a and axes_b must have the same length, got ",
                           c.axes_a.size(), " and ", c.axes_b.size());
  }
  for (auto [axes, ndim] : {std::pair{&c.axes_a, na}, std::pair{&c.axes_b, nb}}) {
    std::vector<int64_t> seen;
    for (int64_t& a : *axes) {
      if (a < -ndim || a >= ndim) {
        return InvalidArgument(node.op, ": axis ", a, " is out of range for an operand of rank ",
                               ndim);
      }
      if (a < 0) a += ndim;
      if (c.batched && a == 0) return InvalidArgument(node.op, ": axis 0 is the batch axis");
      if (std::find(seen.begin(), seen.end(), a) != seen.end()) {
        return InvalidArgument(node.op, ": repeated axis ", a);
      }
      seen.push_back(a);
    }
  }
  return c;
}

absl::Status CheckContractionShapes(const std::string& op, const Contraction& c,
                                    const runtime::Shape& a, const runtime::Shape& b) {
  for (size_t i = 0; i < c.axes_a.size(); ++i) {
    if (a[c.axes_a[i]] != b[c.axes_b[i]]) {
      return InvalidArgument(op, ": shapes ", runtime::ShapeString(a), " and ",
                             runtime::ShapeString(b), " not aligned: ", a[c.axes_a[i]], " (dim ",
                             c.axes_a[i], ") != ", b[c.axes_b[i]], " (dim ", c.axes_b[i], ")");
    }
  }
  if (c.batched && a[0] != b[0]) {
    return InvalidArgument(op, ": batch sizes differ: ", a[0], " and ", b[0]);
  }
  return absl::OkStatus();
}

void RegisterLinalg(Registry& r) {
  OpDef dot = ContractionDef("dot",
                             "dot(a, b): sum over a's last axis and b's second-to-last; a 0-d "
                             "operand multiplies (numpy.dot)");
  dot.theano.name = "dot";
  r.Add(std::move(dot));
  r.Add(ContractionDef("tensordot",
                       "tensordot(a, b; axes_a, axes_b): sum over the paired axes "
                       "(numpy.tensordot(a, b, (axes_a, axes_b)))"));
  r.Add(ContractionDef("batched_dot",
                       "batched_dot(a, b): axis 0 is the batch; dot of a's last axis with b's "
                       "max(1, ndim-2) (numpy.einsum('bij,bjk->bik'))"));
  r.Add(ContractionDef("batched_tensordot",
                       "batched_tensordot(a, b; axes_a, axes_b): tensordot per batch item along "
                       "axis 0 (numpy.stack([numpy.tensordot(x, y, axes) ...]))"));
}

}  // namespace tensord::ops
