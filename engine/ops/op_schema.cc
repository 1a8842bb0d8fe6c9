#include "engine/ops/op_schema.h"

#include <google/protobuf/util/json_util.h>

#include "engine/ops/op_def.h"

namespace tensord::ops {
namespace {

// ReducedDType converts to the wire enum by value.
static_assert(static_cast<int>(ReducedDType::kSame) == v1::REDUCED_DTYPE_SAME);
static_assert(static_cast<int>(ReducedDType::kAccumulate) == v1::REDUCED_DTYPE_ACCUMULATE);
static_assert(static_cast<int>(ReducedDType::kBool) == v1::REDUCED_DTYPE_BOOL);
static_assert(static_cast<int>(ReducedDType::kIndex) == v1::REDUCED_DTYPE_INDEX);
static_assert(static_cast<int>(ReducedDType::kFloat) == v1::REDUCED_DTYPE_FLOAT);

v1::DTypeRule RuleToProto(ElemDTypeRule rule) {
  switch (rule) {
    case ElemDTypeRule::kUpcast:
      return v1::DTYPE_RULE_UPCAST;
    case ElemDTypeRule::kUpcastNoBool:
      return v1::DTYPE_RULE_UPCAST_NO_BOOL;
    case ElemDTypeRule::kUpgradeToFloat:
      return v1::DTYPE_RULE_UPGRADE_TO_FLOAT;
  }
  return v1::DTYPE_RULE_UNSPECIFIED;
}

v1::DTypeClass ClassToProto(DTypeClass accepts) {
  switch (accepts) {
    case DTypeClass::kAny:
      return v1::DTYPE_CLASS_ANY;
    case DTypeClass::kNotBool:
      return v1::DTYPE_CLASS_NOT_BOOL;
    case DTypeClass::kIntOrBool:
      return v1::DTYPE_CLASS_INT_OR_BOOL;
  }
  return v1::DTYPE_CLASS_ANY;
}

void AddTags(const OpDef& d, v1::OpSignature& sig) {
  if (d.Has(kTagElementwise)) sig.add_tags("elementwise");
  if (d.Has(kTagCommutative)) sig.add_tags("commutative");
  if (d.Has(kTagReduction)) sig.add_tags("reduction");
  if (d.Has(kTagRandom)) sig.add_tags("random");
}

}  // namespace

v1::OpSchema ExportOpSchema() {
  v1::OpSchema schema;
  for (const OpDef* d : Registry::Global().All()) {
    v1::OpSignature& sig = *schema.add_ops();
    sig.set_name(d->name);
    sig.set_min_inputs(d->min_inputs);
    sig.set_max_inputs(d->max_inputs);
    sig.set_doc(d->doc);
    AddTags(*d, sig);
    sig.set_differentiable(static_cast<bool>(d->grad));
    sig.set_num_bodies(d->num_bodies);
    if (d->typing) {
      v1::ElementwiseTyping& t = *sig.mutable_typing();
      t.set_rule(RuleToProto(d->typing->rule));
      t.set_accepts(ClassToProto(d->typing->accepts));
      t.set_bool_out(d->typing->bool_out);
      t.set_condition_in(d->typing->condition_in);
    }
    if (d->reduction) {
      for (ReducedDType out : d->reduction->outputs) {
        sig.mutable_reduction()->add_outputs(static_cast<v1::ReducedDType>(out));
      }
    }
    for (const std::string& attr : d->attrs) sig.add_attrs(attr);
    sig.set_theano_name(d->theano.name);
    sig.set_theano_scalar(d->theano.scalar);
    if (d->FusionOpcode() > 0) {
      sig.set_fusion_opcode(d->FusionOpcode());
      sig.set_fusion_format(d->scalar->format);
    }
  }
  return schema;
}

std::string OpSchemaJson() {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  // Cannot fail: the message is well-formed by construction.
  (void)google::protobuf::util::MessageToJsonString(ExportOpSchema(), &json, options);
  return json;
}

}  // namespace tensord::ops
