#include <set>

#include "absl/strings/str_cat.h"
#include "tensord/graph.h"

namespace tensord::client {
namespace {

std::string Describe(Var v) {
  const std::string name = v.name();
  return name.empty() ? absl::StrCat("variable ", v.id()) : absl::StrCat("'", name, "'");
}

std::string TypeString(Var v) {
  std::string out = absl::StrCat(DTypeName(v.dtype()), "(");
  for (bool b : v.broadcastable()) out += b ? "T" : "F";
  return out + ")";
}

}  // namespace

FunctionSpecBuilder& FunctionSpecBuilder::Inputs(std::vector<Var> inputs) {
  inputs_ = std::move(inputs);
  return *this;
}

FunctionSpecBuilder& FunctionSpecBuilder::Outputs(std::vector<Var> outputs) {
  outputs_ = std::move(outputs);
  return *this;
}

FunctionSpecBuilder& FunctionSpecBuilder::Update(Var shared, Var new_value) {
  updates_.emplace_back(shared, new_value);
  return *this;
}

FunctionSpecBuilder& FunctionSpecBuilder::Given(Var variable, Var value) {
  givens_.emplace_back(variable, value);
  return *this;
}

FunctionSpecBuilder& FunctionSpecBuilder::Options(FunctionOptions options) {
  options_ = std::move(options);
  return *this;
}

absl::StatusOr<::tensord::v1::FunctionSpec> FunctionSpecBuilder::Build() const {
  if (!graph_.status().ok()) return graph_.status();
  std::vector<Var> roots;
  for (const auto* pairs : {&updates_, &givens_}) {
    for (const auto& [a, b] : *pairs) {
      if (absl::Status s = graph_.CheckOwned("FunctionSpecBuilder", {a, b}); !s.ok()) return s;
      roots.push_back(a);
      roots.push_back(b);
    }
  }
  std::set<int64_t> updated;
  for (const auto& [shared, value] : updates_) {
    if (!graph_.Find(shared)->has_shared()) {
      return absl::InvalidArgumentError(
          absl::StrCat("update target ", Describe(shared), " is not a shared variable"));
    }
    if (!updated.insert(shared.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("shared variable ", Describe(shared), " has two updates"));
    }
    // As in theano.function: same dtype and rank; the update may only be more broadcastable.
    bool compatible = shared.dtype() == value.dtype() && shared.ndim() == value.ndim();
    const std::vector<bool> bs = shared.broadcastable(), bv = value.broadcastable();
    for (size_t i = 0; compatible && i < bs.size(); ++i) compatible = !bs[i] || bv[i];
    if (!compatible) {
      return absl::InvalidArgumentError(absl::StrCat(
          "an update must have the same type as the original shared variable: ", Describe(shared),
          " is ", TypeString(shared), ", its update is ", TypeString(value),
          " (cast the update, e.g. Cast(value, ", DTypeName(shared.dtype()), "))"));
    }
  }
  for (const auto& [variable, value] : givens_) {
    if (variable.dtype() != value.dtype() || variable.ndim() != value.ndim()) {
      return absl::InvalidArgumentError(absl::StrCat("given for ", Describe(variable), " is ",
                                                     TypeString(value), ", expected ",
                                                     TypeString(variable)));
    }
  }
  absl::StatusOr<::tensord::v1::Graph> graph = graph_.Build(inputs_, outputs_, roots);
  if (!graph.ok()) return graph.status();

  ::tensord::v1::FunctionSpec spec;
  *spec.mutable_graph() = *std::move(graph);
  for (const auto& [shared, value] : updates_) {
    auto* u = spec.add_updates();
    u->set_variable(shared.id());
    u->set_value(value.id());
  }
  for (const auto& [variable, value] : givens_) {
    auto* g = spec.add_givens();
    g->set_variable(variable.id());
    g->set_value(value.id());
  }
  spec.set_allow_input_downcast(options_.allow_input_downcast);
  spec.set_mode(options_.mode);
  spec.set_name(options_.name);
  spec.set_profile(options_.profile);
  spec.set_profile_memory(options_.profile_memory);
  spec.set_cpu_fallback(options_.cpu_fallback);
  spec.set_keep_intermediates(options_.keep_intermediates);
  spec.set_context(options_.context);
  return spec;
}

}  // namespace tensord::client
