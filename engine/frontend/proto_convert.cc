#include "engine/frontend/proto_convert.h"

#include <cstring>
#include <unordered_set>

#include "engine/backends/cpu/broadcast.h"
#include "engine/ops/op_def.h"

namespace tensord::ir {
namespace {

std::string VarLabel(const v1::Variable& v) {
  return v.name().empty() ? absl::StrCat("variable ", v.id())
                          : absl::StrCat("variable ", v.id(), " ('", v.name(), "')");
}

// The error with its code kept (float16 stays UNIMPLEMENTED) and `where` in front.
absl::Status Prefixed(const absl::Status& error, const std::string& where) {
  return absl::Status(error.code(), absl::StrCat(where, ": ", error.message()));
}

absl::StatusOr<AttrValue> AttrFromProto(const v1::AttrValue& a) {
  switch (a.value_case()) {
    case v1::AttrValue::kI:
      return AttrValue(a.i());
    case v1::AttrValue::kF:
      return AttrValue(a.f());
    case v1::AttrValue::kS:
      return AttrValue(a.s());
    case v1::AttrValue::kB:
      return AttrValue(a.b());
    case v1::AttrValue::kInts:
      return AttrValue(std::vector<int64_t>(a.ints().values().begin(), a.ints().values().end()));
    case v1::AttrValue::kFloats:
      return AttrValue(std::vector<double>(a.floats().values().begin(), a.floats().values().end()));
    case v1::AttrValue::kDtype: {
      TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeFromProto(a.dtype(), "the value"));
      return AttrValue(dtype);
    }
    default:
      return InvalidArgument("empty attribute value");
  }
}

}  // namespace

absl::StatusOr<DType> DTypeFromProto(int value, absl::string_view what) {
  if (!IsValidDType(value)) return InvalidArgument(what, " has invalid dtype ", value);
  const auto dtype = static_cast<DType>(value);
  // In the wire contract for the clients' type rules, but no kernel computes it: refusing it
  // here keeps it from reaching a kernel dispatch deep inside a run or a gradient.
  if (dtype == DType::kFloat16)
    return Unimplemented(what, " has dtype float16, which has no kernels yet");
  return dtype;
}

void AttrToProto(const AttrValue& value, v1::AttrValue* a) {
  std::visit(
      [a](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, int64_t>) a->set_i(v);
        if constexpr (std::is_same_v<V, double>) a->set_f(v);
        if constexpr (std::is_same_v<V, std::string>) a->set_s(v);
        if constexpr (std::is_same_v<V, bool>) a->set_b(v);
        // mutable_*() marks the oneof set even for an empty list.
        if constexpr (std::is_same_v<V, std::vector<int64_t>>) {
          auto* ints = a->mutable_ints();
          for (auto x : v) ints->add_values(x);
        }
        if constexpr (std::is_same_v<V, std::vector<double>>) {
          auto* floats = a->mutable_floats();
          for (auto x : v) floats->add_values(x);
        }
        if constexpr (std::is_same_v<V, DType>) a->set_dtype(static_cast<v1::DType>(v));
      },
      value);
}

absl::StatusOr<runtime::Tensor> TensorFromProto(const v1::Tensor& proto) {
  return TensorFromBytes(proto.dtype(), proto.shape(), proto.data());
}

absl::StatusOr<WireLayout> CheckWireLayout(int dtype_number, absl::Span<const int64_t> dims) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeFromProto(dtype_number, "tensor"));
  if (dims.size() > static_cast<size_t>(kMaxRank)) {
    return InvalidArgument("tensor has rank ", dims.size(), "; the limit is ", kMaxRank);
  }
  runtime::Shape shape(dims.begin(), dims.end());
  TENSORD_ASSIGN_OR_RETURN(int64_t elements, runtime::CheckedNumElements(shape, DTypeSize(dtype)));
  const size_t bytes = elements * DTypeSize(dtype);
  return WireLayout{dtype, std::move(shape), bytes};
}

absl::Status CheckWireElements(const runtime::Tensor& tensor) {
  if (tensor.dtype() != DType::kBool) return absl::OkStatus();
  // A bool is the byte 0 or 1 (NumPy's); any other byte would compare unequal to True yet
  // count as true, so kernels and equality would disagree about it.
  const auto* bytes = static_cast<const unsigned char*>(tensor.raw());
  for (size_t i = 0; i < tensor.num_bytes(); ++i) {
    if (bytes[i] > 1) {
      return InvalidArgument("bool tensor element ", i, " is the byte ", int{bytes[i]},
                             "; a bool must be 0 or 1");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<runtime::Tensor> TensorFromBytes(int dtype_number, absl::Span<const int64_t> dims,
                                                absl::string_view data) {
  // The byte count is checked before allocating, so a tiny message cannot ask for a huge buffer.
  TENSORD_ASSIGN_OR_RETURN(WireLayout layout, CheckWireLayout(dtype_number, dims));
  if (data.size() != layout.bytes) {
    return InvalidArgument("tensor of dtype ", DTypeName(layout.dtype), " and shape ",
                           runtime::ShapeString(layout.shape), " needs ", layout.bytes,
                           " bytes of data, got ", data.size());
  }
  TENSORD_ASSIGN_OR_RETURN(runtime::Tensor t,
                           runtime::Tensor::Allocate(layout.dtype, layout.shape));
  if (layout.bytes > 0) std::memcpy(t.raw(), data.data(), layout.bytes);
  TENSORD_RETURN_IF_ERROR(CheckWireElements(t));
  return t;
}

void TensorToProto(const runtime::Tensor& value, v1::Tensor* proto) {
  runtime::Tensor tensor = cpu::Contiguous(value);
  proto->set_dtype(static_cast<v1::DType>(tensor.dtype()));
  proto->clear_shape();
  for (int64_t d : tensor.shape()) proto->add_shape(d);
  proto->set_data(static_cast<const char*>(tensor.raw()), tensor.num_bytes());
}

absl::StatusOr<Type> TypeFromProto(const v1::TensorType& proto) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeFromProto(proto.dtype(), "type"));
  if (proto.broadcastable_size() > kMaxRank) {
    return InvalidArgument("type has rank ", proto.broadcastable_size(), "; the limit is ",
                           kMaxRank);
  }
  return Type{dtype, std::vector<bool>(proto.broadcastable().begin(), proto.broadcastable().end())};
}

void TypeToProto(const Type& type, v1::TensorType* proto) {
  proto->set_dtype(static_cast<v1::DType>(type.dtype));
  proto->clear_broadcastable();
  for (bool b : type.broadcastable) proto->add_broadcastable(b);
}

absl::StatusOr<Variable*> DecodedGraph::Lookup(int64_t wire_id, const char* what) const {
  auto it = by_wire_id.find(wire_id);
  if (it == by_wire_id.end()) return InvalidArgument(what, " refers to unknown variable ", wire_id);
  return it->second;
}

absl::StatusOr<DecodedGraph> GraphFromProto(const v1::Graph& proto) {
  DecodedGraph out;
  std::unordered_map<int64_t, const v1::Variable*> declared;
  for (const v1::Variable& v : proto.variables()) {
    if (!declared.emplace(v.id(), &v).second)
      return InvalidArgument("duplicate variable id ", v.id());
    auto type = TypeFromProto(v.type());
    if (!type.ok()) return Prefixed(type.status(), VarLabel(v));
    Variable* var = nullptr;
    switch (v.source_case()) {
      case v1::Variable::kInput:
        var = out.graph.AddInput(*type, v.name());
        break;
      case v1::Variable::kConstant: {
        auto value = TensorFromProto(v.constant());
        if (!value.ok()) return Prefixed(value.status(), VarLabel(v));
        TENSORD_RETURN_IF_ERROR(
            CheckValueFitsType(*value, *type, absl::StrCat("constant ", VarLabel(v))));
        var = out.graph.AddConstant(*std::move(value), *type, v.name());
        break;
      }
      case v1::Variable::kShared:
        if (v.shared().id().empty()) return InvalidArgument(VarLabel(v), ": shared id is empty");
        var = out.graph.AddShared(*type, v.shared().id(), v.name());
        break;
      case v1::Variable::kOutput:
        continue;  // created by its apply below
      default:
        return InvalidArgument(VarLabel(v), " has no source (input, constant, shared or output)");
    }
    out.by_wire_id[v.id()] = var;
  }
  for (int i = 0; i < proto.applies_size(); ++i) {
    const v1::Apply& a = proto.applies(i);
    std::vector<Variable*> inputs;
    for (int64_t id : a.inputs()) {
      auto it = out.by_wire_id.find(id);
      if (it == out.by_wire_id.end()) {
        return InvalidArgument("apply ", i, " (", a.op(), ") uses variable ", id,
                               declared.count(id) ? " before it is computed (applies must be in "
                                                    "topological order)"
                                                  : ", which the graph does not declare");
      }
      inputs.push_back(it->second);
    }
    Attrs attrs;
    for (const auto& [key, value] : a.attrs()) {
      auto attr = AttrFromProto(value);
      if (!attr.ok()) {
        return Prefixed(attr.status(),
                        absl::StrCat("apply ", i, " (", a.op(), ") attribute '", key, "'"));
      }
      attrs[key] = *std::move(attr);
    }
    std::vector<std::shared_ptr<const Graph>> bodies;
    for (int b = 0; b < a.bodies_size(); ++b) {
      auto body = GraphFromProto(a.bodies(b));
      if (!body.ok()) {
        return absl::Status(body.status().code(), absl::StrCat("apply ", i, " (", a.op(), ") body ",
                                                               b, ": ", body.status().message()));
      }
      bodies.push_back(std::make_shared<const Graph>(std::move(body->graph)));
    }
    Apply probe{a.op(), std::move(attrs), std::move(inputs), {}, nullptr, std::move(bodies)};
    std::vector<Type> types;
    absl::Status st = ops::ResolveAndInfer(probe, &types);
    if (!st.ok()) return absl::Status(st.code(), absl::StrCat("apply ", i, ": ", st.message()));
    if (static_cast<int>(types.size()) != a.outputs_size()) {
      return InvalidArgument("apply ", i, " (", a.op(), ") declares ", a.outputs_size(),
                             " outputs but the op has ", types.size());
    }
    Apply* node = out.graph.AddApply(probe.op, std::move(probe.attrs), std::move(probe.inputs),
                                     types, std::move(probe.bodies));
    node->def = probe.def;
    for (int k = 0; k < a.outputs_size(); ++k) {
      int64_t id = a.outputs(k);
      auto decl = declared.find(id);
      if (decl == declared.end() || decl->second->source_case() != v1::Variable::kOutput) {
        return InvalidArgument("apply ", i, " (", a.op(), ") output ", id,
                               " is not declared as an output variable");
      }
      if (out.by_wire_id.count(id)) return InvalidArgument("variable ", id, " is computed twice");
      auto declared_type = TypeFromProto(decl->second->type());
      if (!declared_type.ok() || !(*declared_type == types[k])) {
        return InvalidArgument("apply ", i, " (", a.op(), ") output ", VarLabel(*decl->second),
                               " is declared as ",
                               declared_type.ok() ? TypeString(*declared_type) : "invalid",
                               " but the op produces ", TypeString(types[k]));
      }
      node->outputs[k]->name = decl->second->name();
      out.by_wire_id[id] = node->outputs[k];
    }
  }
  for (const auto& [id, v] : declared) {
    if (!out.by_wire_id.count(id))
      return InvalidArgument(VarLabel(*v), " is declared as an output but no apply computes it");
  }
  std::unordered_set<const Variable*> listed_inputs;
  for (int64_t id : proto.inputs()) {
    TENSORD_ASSIGN_OR_RETURN(Variable * v, out.Lookup(id, "graph input"));
    if (v->source != Source::kInput)
      return InvalidArgument("graph input ", id, " is not an input variable");
    if (!listed_inputs.insert(v).second) {
      return InvalidArgument("variable ", id, " is listed twice as an input");
    }
    out.graph.inputs().push_back(v);
  }
  for (int64_t id : proto.outputs()) {
    TENSORD_ASSIGN_OR_RETURN(Variable * v, out.Lookup(id, "graph output"));
    out.graph.outputs().push_back(v);
  }
  return out;
}

void GraphToProto(const Graph& graph, v1::Graph* proto) {
  proto->Clear();
  for (const auto& v : graph.variables()) {
    v1::Variable* pv = proto->add_variables();
    pv->set_id(v->id);
    pv->set_name(v->name);
    TypeToProto(v->type, pv->mutable_type());
    switch (v->source) {
      case Source::kInput:
        pv->mutable_input();
        break;
      case Source::kConstant:
        TensorToProto(v->constant, pv->mutable_constant());
        break;
      case Source::kShared:
        pv->mutable_shared()->set_id(v->shared_id);
        break;
      case Source::kOutput:
        pv->mutable_output();
        break;
    }
  }
  for (const auto& a : graph.applies()) {
    v1::Apply* pa = proto->add_applies();
    pa->set_op(a->op);
    for (const auto& [key, value] : a->attrs) AttrToProto(value, &(*pa->mutable_attrs())[key]);
    for (const Variable* in : a->inputs) pa->add_inputs(in->id);
    for (const Variable* o : a->outputs) pa->add_outputs(o->id);
    for (const auto& body : a->bodies) GraphToProto(*body, pa->add_bodies());
  }
  for (const Variable* v : graph.inputs()) proto->add_inputs(v->id);
  for (const Variable* v : graph.outputs()) proto->add_outputs(v->id);
}

}  // namespace tensord::ir
