#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "tensord/graph.h"
#include "tensord/ops.h"

namespace tensord::client {
namespace {

::tensord::v1::TensorType MakeType(DType dtype, const std::vector<bool>& broadcastable) {
  ::tensord::v1::TensorType type;
  type.set_dtype(dtype);
  type.mutable_broadcastable()->Add(broadcastable.begin(), broadcastable.end());
  return type;
}

}  // namespace

DType Var::dtype() const {
  const auto* v = builder_ ? builder_->Find(*this) : nullptr;
  return v ? v->type().dtype() : ::tensord::v1::DT_INVALID;
}

std::vector<bool> Var::broadcastable() const {
  const auto* v = builder_ ? builder_->Find(*this) : nullptr;
  if (!v) return {};
  return {v->type().broadcastable().begin(), v->type().broadcastable().end()};
}

int Var::ndim() const {
  const auto* v = builder_ ? builder_->Find(*this) : nullptr;
  return v ? v->type().broadcastable_size() : 0;
}

std::string Var::name() const {
  const auto* v = builder_ ? builder_->Find(*this) : nullptr;
  return v ? v->name() : "";
}

::tensord::v1::TensorType Var::type() const {
  const auto* v = builder_ ? builder_->Find(*this) : nullptr;
  return v ? v->type() : ::tensord::v1::TensorType();
}

Var Var::T() const { return Transpose(*this); }

::tensord::v1::AttrValue IntAttr(int64_t value) {
  ::tensord::v1::AttrValue attr;
  attr.set_i(value);
  return attr;
}

::tensord::v1::AttrValue IntsAttr(const std::vector<int64_t>& values) {
  ::tensord::v1::AttrValue attr;
  attr.mutable_ints()->mutable_values()->Add(values.begin(), values.end());
  return attr;
}

::tensord::v1::AttrValue DTypeAttr(DType dtype) {
  ::tensord::v1::AttrValue attr;
  attr.set_dtype(dtype);
  return attr;
}

::tensord::v1::AttrValue FloatAttr(double value) {
  ::tensord::v1::AttrValue attr;
  attr.set_f(value);
  return attr;
}

::tensord::v1::AttrValue BoolAttr(bool value) {
  ::tensord::v1::AttrValue attr;
  attr.set_b(value);
  return attr;
}

::tensord::v1::AttrValue StringAttr(std::string value) {
  ::tensord::v1::AttrValue attr;
  attr.set_s(std::move(value));
  return attr;
}

GraphBuilder::GraphBuilder(DType float_x) : float_x_(float_x) {
  if (!IsFloat(float_x)) {
    Fail(absl::InvalidArgumentError(
        absl::StrCat("GraphBuilder: float_x must be a float dtype, got ", DTypeName(float_x))));
  }
}

Var GraphBuilder::AddVariable(std::string name, ::tensord::v1::TensorType type) {
  ::tensord::v1::Variable* v = graph_.add_variables();
  v->set_id(graph_.variables_size());
  v->set_name(std::move(name));
  *v->mutable_type() = std::move(type);
  producer_.push_back(-1);
  return Var(this, v->id());
}

Var GraphBuilder::Input(std::string name, DType dtype, std::vector<bool> broadcastable) {
  if (dtype == ::tensord::v1::DT_INVALID) dtype = float_x_;
  if (DTypeSize(dtype) == 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("Input '", name, "': invalid dtype ", static_cast<int>(dtype))));
  }
  Var var = AddVariable(std::move(name), MakeType(dtype, broadcastable));
  graph_.mutable_variables(var.id() - 1)->mutable_input();
  return var;
}

Var GraphBuilder::Scalar(std::string name, DType dtype) { return Input(name, dtype, {}); }
Var GraphBuilder::Vector(std::string name, DType dtype) { return Input(name, dtype, {false}); }
Var GraphBuilder::Row(std::string name, DType dtype) { return Input(name, dtype, {true, false}); }
Var GraphBuilder::Col(std::string name, DType dtype) { return Input(name, dtype, {false, true}); }
Var GraphBuilder::Matrix(std::string name, DType dtype) {
  return Input(name, dtype, {false, false});
}
Var GraphBuilder::Tensor3(std::string name, DType dtype) {
  return Input(name, dtype, {false, false, false});
}

Var GraphBuilder::Constant(HostTensor value, std::string name) {
  if (!value.valid()) return Fail(absl::InvalidArgumentError("Constant: invalid HostTensor"));
  std::vector<bool> broadcastable;
  for (int64_t d : value.shape()) broadcastable.push_back(d == 1);
  Var var = AddVariable(std::move(name), MakeType(value.dtype(), broadcastable));
  *graph_.mutable_variables(var.id() - 1)->mutable_constant() = std::move(value).ToProto();
  return var;
}

Var GraphBuilder::FloatLiteral(double value) {
  if (float_x_ == kFloat16) {
    // The client has no half encoder; a cast gives the same type and the server folds it.
    return Cast(Constant(HostTensor::Scalar(static_cast<float>(value))), kFloat16);
  }
  // Theano keeps a float32 float_x; with float64 it still picks float32 when that is exact.
  const bool exact_in_float32 = static_cast<double>(static_cast<float>(value)) == value;
  if (float_x_ == kFloat32 || exact_in_float32) {
    return Constant(HostTensor::Scalar(static_cast<float>(value)));
  }
  return Constant(HostTensor::Scalar(value));
}

Var GraphBuilder::IntLiteral(int64_t value) {
  if (value >= INT8_MIN && value <= INT8_MAX) {
    return Constant(HostTensor::Scalar(static_cast<int8_t>(value)));
  }
  if (value >= INT16_MIN && value <= INT16_MAX) {
    return Constant(HostTensor::Scalar(static_cast<int16_t>(value)));
  }
  if (value >= INT32_MIN && value <= INT32_MAX) {
    return Constant(HostTensor::Scalar(static_cast<int32_t>(value)));
  }
  return Constant(HostTensor::Scalar(value));
}

Var GraphBuilder::SharedVar(const ::tensord::v1::SharedInfo& info) {
  // One shared variable is one graph variable (as in Theano), however often it is looked up, so
  // that an update names the same variable the graph reads.
  for (const auto& v : graph_.variables()) {
    if (v.has_shared() && v.shared().id() == info.id()) return Var(this, v.id());
  }
  if (info.id().empty()) return Fail(absl::InvalidArgumentError("SharedVar: empty shared id"));
  if (DTypeSize(info.type().dtype()) == 0) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("SharedVar '", info.name(), "': invalid dtype in SharedInfo")));
  }
  Var var = AddVariable(info.name(), info.type());
  graph_.mutable_variables(var.id() - 1)->mutable_shared()->set_id(info.id());
  return var;
}

std::vector<Var> GraphBuilder::Apply(std::string op, const std::vector<Var>& inputs, AttrMap attrs,
                                     const std::vector<::tensord::v1::TensorType>& output_types,
                                     std::vector<::tensord::v1::Graph> bodies) {
  std::vector<Var> outputs(output_types.size());
  if (absl::Status s = CheckOwned(op, inputs); !s.ok()) {
    Fail(s);
    return outputs;
  }
  for (const auto& type : output_types) {
    if (DTypeSize(type.dtype()) == 0) {
      Fail(absl::InvalidArgumentError(absl::StrCat(op, ": output type has an invalid dtype")));
      return outputs;
    }
  }
  const int apply_index = graph_.applies_size();
  ::tensord::v1::Apply* apply = graph_.add_applies();
  apply->set_op(std::move(op));
  for (auto& [key, value] : attrs) (*apply->mutable_attrs())[key] = std::move(value);
  for (Var in : inputs) apply->add_inputs(in.id());
  for (auto& body : bodies) *apply->add_bodies() = std::move(body);
  for (size_t i = 0; i < output_types.size(); ++i) {
    outputs[i] = AddVariable("", output_types[i]);
    graph_.mutable_variables(outputs[i].id() - 1)->mutable_output();
    producer_[outputs[i].id() - 1] = apply_index;
    apply->add_outputs(outputs[i].id());
  }
  return outputs;
}

Var GraphBuilder::Fail(absl::Status error) {
  if (status_.ok()) status_ = std::move(error);
  return Var();
}

absl::Status GraphBuilder::CheckOwned(absl::string_view op, const std::vector<Var>& vars) const {
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!vars[i].valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": input ", i, " is not a valid variable (see the first error)"));
    }
    if (vars[i].builder() != this || FindId(vars[i].id()) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(op, ": input ", i, " belongs to a different GraphBuilder"));
    }
  }
  return absl::OkStatus();
}

const ::tensord::v1::Variable* GraphBuilder::FindId(int64_t id) const {
  if (id < 1 || id > graph_.variables_size()) return nullptr;
  return &graph_.variables(id - 1);
}

const ::tensord::v1::Variable* GraphBuilder::Find(Var var) const {
  return var.builder() == this ? FindId(var.id()) : nullptr;
}

Var GraphBuilder::VarOf(int64_t id) const {
  if (!FindId(id)) return Var();
  return Var(const_cast<GraphBuilder*>(this), id);
}

std::optional<double> GraphBuilder::ConstantScalarValue(Var var) const {
  const auto* v = Find(var);
  if (!v || !v->has_constant() || v->constant().shape_size() != 0) return std::nullopt;
  absl::StatusOr<HostTensor> t = HostTensor::FromProto(v->constant());
  if (!t.ok() || t->num_elements() != 1) return std::nullopt;
  return t->ToDoubles()[0];
}

absl::StatusOr<::tensord::v1::Graph> GraphBuilder::Build(
    const std::vector<Var>& inputs, const std::vector<Var>& outputs,
    const std::vector<Var>& extra_roots) const {
  if (!status_.ok()) return status_;
  for (const auto* list : {&inputs, &outputs, &extra_roots}) {
    if (absl::Status s = CheckOwned("Build", *list); !s.ok()) return s;
  }
  std::set<int64_t> seen_inputs;
  for (Var in : inputs) {
    const auto* v = FindId(in.id());
    if (!v->has_input()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Build: function input '", v->name(), "' (id ", v->id(),
          ") is not a symbolic input (constants and shared variables cannot be inputs)"));
    }
    if (!seen_inputs.insert(in.id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("Build: input '", v->name(), "' is listed twice"));
    }
  }
  // Walk back from the roots; every variable an apply needs is marked before the apply runs.
  std::vector<bool> needed_var(graph_.variables_size() + 1, false);
  std::vector<bool> needed_apply(graph_.applies_size(), false);
  std::vector<int64_t> stack;
  for (const auto* list : {&inputs, &outputs, &extra_roots}) {
    for (Var v : *list) stack.push_back(v.id());
  }
  while (!stack.empty()) {
    const int64_t id = stack.back();
    stack.pop_back();
    if (needed_var[id]) continue;
    needed_var[id] = true;
    const int apply = producer_[id - 1];
    if (apply < 0 || needed_apply[apply]) continue;
    needed_apply[apply] = true;
    for (int64_t in : graph_.applies(apply).inputs()) stack.push_back(in);
    for (int64_t out : graph_.applies(apply).outputs()) stack.push_back(out);
  }
  ::tensord::v1::Graph graph;
  for (const auto& v : graph_.variables()) {
    if (needed_var[v.id()]) *graph.add_variables() = v;
  }
  for (int i = 0; i < graph_.applies_size(); ++i) {
    if (needed_apply[i]) *graph.add_applies() = graph_.applies(i);
  }
  for (Var in : inputs) graph.add_inputs(in.id());
  for (Var out : outputs) graph.add_outputs(out.id());
  return graph;
}

absl::StatusOr<std::vector<Var>> GraphBuilder::Import(const ::tensord::v1::Graph& sent,
                                                      const ::tensord::v1::Graph& extended,
                                                      const std::vector<int64_t>& ids) {
  if (!status_.ok()) return status_;
  std::unordered_map<int64_t, int64_t> id_map;  // extended id -> builder id
  std::set<int64_t> sent_ids;
  for (const auto& v : sent.variables()) {
    if (!FindId(v.id())) return absl::InvalidArgumentError("Import: sent graph is not ours");
    id_map[v.id()] = v.id();
    sent_ids.insert(v.id());
  }
  for (const auto& v : extended.variables()) {
    if (id_map.contains(v.id())) continue;
    Var var = AddVariable(v.name(), v.type());
    ::tensord::v1::Variable* mine = graph_.mutable_variables(var.id() - 1);
    *mine = v;
    mine->set_id(var.id());
    id_map[v.id()] = var.id();
  }
  auto remap = [&](int64_t id) -> absl::StatusOr<int64_t> {
    auto it = id_map.find(id);
    if (it == id_map.end()) {
      return absl::InvalidArgumentError(absl::StrCat("Import: unknown variable id ", id));
    }
    return it->second;
  };
  for (const auto& apply : extended.applies()) {
    // An apply whose outputs were all sent is one of ours already.
    const bool known = std::all_of(apply.outputs().begin(), apply.outputs().end(),
                                   [&](int64_t id) { return sent_ids.contains(id); });
    if (known) continue;
    ::tensord::v1::Apply copy = apply;
    for (int i = 0; i < copy.inputs_size(); ++i) {
      absl::StatusOr<int64_t> id = remap(copy.inputs(i));
      if (!id.ok()) return id.status();
      copy.set_inputs(i, *id);
    }
    for (int i = 0; i < copy.outputs_size(); ++i) {
      absl::StatusOr<int64_t> id = remap(copy.outputs(i));
      if (!id.ok()) return id.status();
      copy.set_outputs(i, *id);
      producer_[*id - 1] = graph_.applies_size();
    }
    *graph_.add_applies() = std::move(copy);
  }
  std::vector<Var> out;
  for (int64_t id : ids) {
    absl::StatusOr<int64_t> mine = remap(id);
    if (!mine.ok()) return mine.status();
    out.push_back(Var(this, *mine));
  }
  return out;
}

}  // namespace tensord::client
