#include "engine/frontend/verifier.h"

#include <unordered_set>

#include "engine/ops/op_def.h"

namespace tensord::ir {

absl::Status Verify(const Graph& graph) {
  std::unordered_set<const Variable*> owned;
  for (const auto& v : graph.variables()) owned.insert(v.get());
  std::unordered_set<const Variable*> defined;
  for (const auto& v : graph.variables()) {
    if (v->source != Source::kOutput) defined.insert(v.get());
  }
  for (size_t i = 0; i < graph.applies().size(); ++i) {
    const Apply& a = *graph.applies()[i];
    for (const Variable* in : a.inputs) {
      if (!owned.count(in)) return Internal("apply ", i, " (", a.op, ") uses a foreign variable");
      if (!defined.count(in)) {
        return Internal("apply ", i, " (", a.op, ") uses ", in->DisplayName(),
                        " before it is computed");
      }
    }
    Apply probe{a.op, a.attrs, a.inputs, {}, nullptr, a.bodies};
    std::vector<Type> types;
    TENSORD_RETURN_IF_ERROR(ops::ResolveAndInfer(probe, &types));
    if (types.size() != a.outputs.size())
      return Internal("apply ", i, " (", a.op, ") output count");
    for (size_t k = 0; k < a.outputs.size(); ++k) {
      const Variable* o = a.outputs[k];
      if (o->owner != &a || o->output_index != static_cast<int>(k)) {
        return Internal("apply ", i, " (", a.op, ") output ", k, " does not point back to it");
      }
      if (!(o->type == types[k])) {
        return Internal("apply ", i, " (", a.op, ") output ", k, " has type ", TypeString(o->type),
                        " but the op infers ", TypeString(types[k]));
      }
      defined.insert(o);
    }
  }
  for (const Variable* o : graph.outputs()) {
    if (!defined.count(o)) return Internal("graph output ", o->DisplayName(), " is not computed");
  }
  return absl::OkStatus();
}

}  // namespace tensord::ir
