// ifelse(cond, then_1..then_n, else_1..else_n): Theano's IfElse with a scalar condition. Lazy:
// the executable skips the instructions only the branch not taken needs (PlanLazyIfElse in
// engine/compile/compiler.cc), so the kernel must read only the condition and the taken side
// (the other side's slots may be empty or stale); it shares their buffers instead of copying.
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/grads/shape.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Tensor;

absl::StatusOr<std::vector<ir::Type>> InferIfElse(const ir::Apply& node) {
  const ir::Type& cond = node.inputs[0]->type;
  if (cond.ndim() != 0) {
    return InvalidArgument("ifelse: the condition must be a scalar, got ", ir::TypeString(cond));
  }
  if (cond.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  const size_t branches = node.inputs.size() - 1;
  if (branches == 0 || branches % 2 != 0) {
    return InvalidArgument("ifelse needs as many else values as then values, got ", branches,
                           " values in all");
  }
  const size_t n = branches / 2;
  std::vector<ir::Type> out;
  for (size_t i = 0; i < n; ++i) {
    const ir::Type& t = node.inputs[1 + i]->type;
    const ir::Type& e = node.inputs[1 + n + i]->type;
    if (!(t == e)) {
      return InvalidArgument("ifelse: the two branches should have identical types, but output ", i,
                             " is ", ir::TypeString(t), " and ", ir::TypeString(e),
                             " respectively");
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace

void RegisterIfElse(Registry& r) {
  OpDef d;
  d.name = "ifelse";
  d.min_inputs = 3;
  d.max_inputs = -1;
  d.doc =
      "ifelse(cond, *then, *else): the then values if the scalar cond is nonzero, else the "
      "else values (Python's `t if cond else e`, per output)";
  d.infer_types = InferIfElse;
  d.grad = IfElseGrad;
  d.theano.name = "if{}";
  r.Add(std::move(d));
}

}  // namespace tensord::ops
