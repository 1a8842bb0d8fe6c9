#include "tensord/ops_linalg.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "src/op_util.h"
#include "tensord/ops_shape.h"

namespace tensord::client {
namespace {

using internal::Fail;

// Normalizes one operand's summed axes; false (after recording the error) when one is out of
// range, repeated, or the batch axis.
bool NormalizeSummed(GraphBuilder* b, const char* op, std::vector<int64_t>& axes, int ndim,
                     bool batched) {
  std::vector<int64_t> seen;
  for (int64_t& a : axes) {
    if (a < -ndim || a >= ndim) {
      Fail(b, op, absl::StrCat("axis ", a, " is out of range for an operand of rank ", ndim));
      return false;
    }
    if (a < 0) a += ndim;
    if (batched && a == 0) {
      Fail(b, op, "axis 0 is the batch axis");
      return false;
    }
    if (std::find(seen.begin(), seen.end(), a) != seen.end()) {
      Fail(b, op, absl::StrCat("repeated axis ", a));
      return false;
    }
    seen.push_back(a);
  }
  return true;
}

// The free dims of an operand, in order, after the batch dim when batched.
void AppendFree(std::vector<bool>& out, Var x, const std::vector<int64_t>& summed, bool batched) {
  const std::vector<bool> bc = x.broadcastable();
  for (int d = batched ? 1 : 0; d < x.ndim(); ++d) {
    if (std::find(summed.begin(), summed.end(), d) == summed.end()) out.push_back(bc[d]);
  }
}

Var Contract(const char* op, Var a, Var b, std::vector<int64_t> axes_a, std::vector<int64_t> axes_b,
             bool with_attrs) {
  GraphBuilder* g = internal::Check(op, {a, b});
  if (!g) return Var();
  const bool batched = op[0] == 'b';
  if (batched && (a.ndim() < 2 || b.ndim() < 2)) {
    return Fail(g, op, "needs operands of rank >= 2 (axis 0 is the batch)");
  }
  if (axes_a.size() != axes_b.size()) {
    return Fail(g, op, "axes_a and axes_b must have the same length");
  }
  AttrMap attrs;
  if (with_attrs) attrs = {{"axes_a", IntsAttr(axes_a)}, {"axes_b", IntsAttr(axes_b)}};
  if (!NormalizeSummed(g, op, axes_a, a.ndim(), batched) ||
      !NormalizeSummed(g, op, axes_b, b.ndim(), batched)) {
    return Var();
  }
  std::vector<bool> broadcastable;
  if (batched) broadcastable.push_back(a.broadcastable()[0] || b.broadcastable()[0]);
  AppendFree(broadcastable, a, axes_a, batched);
  AppendFree(broadcastable, b, axes_b, batched);
  return internal::Single(g, op, {a, b}, std::move(attrs), ResultType(a.dtype(), b.dtype()),
                          broadcastable);
}

std::vector<int64_t> Range(int64_t begin, int64_t end) {
  std::vector<int64_t> out;
  for (int64_t i = begin; i < end; ++i) out.push_back(i);
  return out;
}

}  // namespace

Var TensorDot(Var a, Var b, const std::vector<int64_t>& axes_a,
              const std::vector<int64_t>& axes_b) {
  return Contract("tensordot", a, b, axes_a, axes_b, true);
}

Var TensorDot(Var a, Var b, int64_t n) {
  if (n < 0 || n > std::min(a.ndim(), b.ndim())) {
    return Fail(
        internal::BuilderOf({a, b}), "tensordot",
        absl::StrCat("axes=", n, " is out of range for ranks ", a.ndim(), " and ", b.ndim()));
  }
  return TensorDot(a, b, Range(a.ndim() - n, a.ndim()), Range(0, n));
}

Var BatchedDot(Var a, Var b) {
  GraphBuilder* g = internal::Check("batched_dot", {a, b});
  if (!g) return Var();
  if (a.ndim() == 0 || b.ndim() == 0) return Fail(g, "batched_dot", "operands need a batch axis");
  auto batch_column = [](Var v, int ndim) {
    std::vector<int64_t> order = {0};
    order.insert(order.end(), ndim - 1, -1);
    return Dimshuffle(v, order);
  };
  if (a.ndim() == 1) return batch_column(a, b.ndim()) * b;
  if (b.ndim() == 1) return a * batch_column(b, a.ndim());
  const int nb = b.ndim();
  return Contract("batched_dot", a, b, {a.ndim() - 1}, {std::max(1, nb - 2)}, false);
}

Var BatchedTensorDot(Var a, Var b, const std::vector<int64_t>& axes_a,
                     const std::vector<int64_t>& axes_b) {
  return Contract("batched_tensordot", a, b, axes_a, axes_b, true);
}

Var BatchedTensorDot(Var a, Var b, int64_t n) {
  if (n < 0 || n > std::min(a.ndim(), b.ndim()) - 1) {
    return Fail(internal::BuilderOf({a, b}), "batched_tensordot",
                absl::StrCat("axes=", n, " is out of range"));
  }
  return BatchedTensorDot(a, b, Range(a.ndim() - n, a.ndim()), Range(1, n + 1));
}

Var Outer(Var a, Var b) {
  if (a.ndim() != 1) a = Flatten(a);
  if (b.ndim() != 1) b = Flatten(b);
  return Dot(Dimshuffle(a, {0, -1}), Dimshuffle(b, {-1, 0}));
}

}  // namespace tensord::client
