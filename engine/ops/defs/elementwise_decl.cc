#include "engine/ops/defs/elementwise_decl.h"

#include "engine/ops/defs/shape_rules.h"

namespace tensord::ops {

OpDef ElementwiseOp(ElementwiseSpec spec, ScalarForm form) {
  OpDef d;
  d.name = std::move(spec.name);
  d.min_inputs = spec.min_inputs;
  d.max_inputs = spec.max_inputs;
  d.doc = std::move(spec.doc);
  const ElementwiseTyping typing = spec.typing;
  d.typing = typing;
  d.infer_types = [typing](const ir::Apply& node) { return InferTyped(node, typing); };
  if (typing.bool_out) {
    d.input_dtypes = AllInputsAsCommon;  // compared in their promotion
  } else if (typing.condition_in) {
    d.input_dtypes = [](const ir::Apply& node) {
      std::vector<std::optional<DType>> wanted(node.inputs.size(), node.outputs[0]->type.dtype);
      wanted[0] = DType::kBool;
      return wanted;
    };
  } else {
    d.input_dtypes = AllInputsAsOutput;
  }
  form.opcode = spec.opcode;
  form.format = std::move(spec.format);
  d.scalar = std::move(form);
  d.infer_shape = BroadcastShape;
  d.theano = std::move(spec.theano);
  d.tags = spec.tags | kTagElementwise;
  d.differentiable = static_cast<bool>(spec.grad);
  d.grad = std::move(spec.grad);
  return d;
}

}  // namespace tensord::ops
