#include <algorithm>

#include "engine/ops/op_def.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

const Registry& Registry::Global() {
  static const Registry* registry = [] {
    auto* r = new Registry();
    RegisterAll(*r);
    return r;
  }();
  return *registry;
}

void Registry::Add(OpDef def) { defs_.push_back(std::make_unique<OpDef>(std::move(def))); }

const OpDef* Registry::Find(const std::string& name) const {
  for (const auto& d : defs_)
    if (d->name == name) return d.get();
  return nullptr;
}

std::vector<const OpDef*> Registry::All() const {
  std::vector<const OpDef*> all;
  for (const auto& d : defs_) all.push_back(d.get());
  std::sort(all.begin(), all.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return all;
}

absl::Status ResolveAndInfer(ir::Apply& node, std::vector<ir::Type>* out_types) {
  const OpDef* def = Registry::Global().Find(node.op);
  if (def == nullptr) return InvalidArgument("unknown op '", node.op, "'");
  int n = static_cast<int>(node.inputs.size());
  if (n < def->min_inputs || (def->max_inputs >= 0 && n > def->max_inputs)) {
    std::string want = def->max_inputs < 0 ? absl::StrCat("at least ", def->min_inputs)
                       : def->min_inputs == def->max_inputs
                           ? absl::StrCat(def->min_inputs)
                           : absl::StrCat(def->min_inputs, " to ", def->max_inputs);
    return InvalidArgument("op '", node.op, "' takes ", want, " inputs, got ", n);
  }
  node.def = def;
  auto types = def->infer_types(node);
  if (!types.ok()) {
    return absl::Status(types.status().code(),
                        absl::StrCat("op '", node.op, "': ", types.status().message()));
  }
  *out_types = std::move(types).value();
  return absl::OkStatus();
}

}  // namespace tensord::ops
