// Creation and symbolic-shape ops: shape, shape_i, make_vector, arange, eye. The rest of the
// family (tile, repeat, flatten, join, sort, argsort) lives in tile_repeat.cc and join_sort.cc.
#include "engine/ops/defs/creation.h"

#include <cmath>
#include <cstring>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/shape.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace creation {

using runtime::Shape;
using runtime::Tensor;

absl::StatusOr<DType> DTypeAttr(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType d, ir::GetAttr<DType>(node, "dtype"));
  if (!IsValidDType(static_cast<int>(d)) || d == DType::kInvalid) {
    return InvalidArgument("invalid dtype ", static_cast<int>(d));
  }
  if (d == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return d;
}

namespace {

// ---- shape(x) and shape_i(x; i) ----

// ---- make_vector(*scalars; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferMakeVector(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  for (size_t k = 0; k < node.inputs.size(); ++k) {
    const ir::Type& t = node.inputs[k]->type;
    if (t.ndim() != 0) {
      return InvalidArgument("make_vector: input ", k, " must be a scalar, got ",
                             ir::TypeString(t));
    }
    // As Theano's MakeVector: inputs are upcast to the dtype, never downcast.
    if (Promote(dtype, t.dtype) != dtype) {
      return InvalidArgument("make_vector: input ", k, " of dtype ", DTypeName(t.dtype),
                             " cannot be upcast to ", DTypeName(dtype));
    }
  }
  return std::vector<ir::Type>{ir::Type{dtype, {false}}};
}

// ---- arange(start, stop, step; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferArange(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  if (dtype == DType::kBool) return InvalidArgument("arange: dtype must be numeric, got bool");
  const char* names[] = {"start", "stop", "step"};
  for (int k = 0; k < 3; ++k) {
    if (node.inputs[k]->type.ndim() != 0) {
      return InvalidArgument("arange: ", names[k], " must be a scalar, got ",
                             ir::TypeString(node.inputs[k]->type));
    }
  }
  return std::vector<ir::Type>{ir::Type{dtype, {false}}};
}

// ---- eye(n, m, k; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferEye(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, DTypeAttr(node));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[0], 0, "eye: n"));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 0, "eye: m"));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[2], 0, "eye: k"));
  return std::vector<ir::Type>{ir::Type{dtype, {false, false}}};
}

void RegisterCreation(Registry& r) {
  OpDef shape = MakeOpDef(
      "shape", 1, 1, "shape(x) -> int64 vector (numpy.shape)",
      [](const ir::Apply&) -> absl::StatusOr<std::vector<ir::Type>> {
        return std::vector<ir::Type>{ir::Type{DType::kInt64, {false}}};
      },
      kNotDifferentiable);
  shape.theano.name = "Shape";
  shape.infer_shape = [](NodeBuilder& b, const ir::Apply& node, auto) {
    const int ndim = node.inputs[0]->type.ndim();
    return std::vector<SymbolicShape>{{b.Constant(ndim, DType::kInt64)}};
  };
  r.Add(std::move(shape));
  OpDef shape_i = MakeOpDef(
      "shape_i", 1, 1, "shape_i(x; i) -> int64 scalar, Theano's Shape_i (numpy.shape(x)[i])",
      [](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
        TENSORD_RETURN_IF_ERROR(ShapeIndex(node).status());
        return std::vector<ir::Type>{ir::Type{DType::kInt64, {}}};
      },
      kNotDifferentiable);
  shape_i.attrs = {"i"};
  shape_i.infer_shape = [](NodeBuilder&, const ir::Apply&, auto) {
    return std::vector<SymbolicShape>{{}};
  };
  shape_i.theano_render = [](const ir::Apply& node, const std::string&) {
    return absl::StrCat("Shape_i{", ir::GetAttr<int64_t>(node, "i").value_or(0), "}");
  };
  r.Add(std::move(shape_i));
  OpDef make_vector = MakeOpDef("make_vector", 0, -1,
                                "make_vector(*scalars; dtype) -> vector, Theano's MakeVector "
                                "(numpy.array([a, b, ...], dtype))",
                                InferMakeVector, MakeVectorGrad);
  make_vector.input_dtypes = AllInputsAsOutput;
  make_vector.attrs = {"dtype"};
  make_vector.infer_shape = [](NodeBuilder& b, const ir::Apply& node, auto) {
    const auto n = static_cast<double>(node.inputs.size());
    return std::vector<SymbolicShape>{{b.Constant(n, DType::kInt64)}};
  };
  make_vector.theano_render = [](const ir::Apply& node, const std::string&) {
    return absl::StrCat("MakeVector{dtype='", DTypeName(node.outputs[0]->type.dtype), "'}");
  };
  r.Add(std::move(make_vector));
  OpDef arange = MakeOpDef(
      "arange", 3, 3, "arange(start, stop, step; dtype) (numpy.arange; step 0 is INVALID_ARGUMENT)",
      InferArange, ArangeGrad);
  arange.attrs = {"dtype"};
  r.Add(std::move(arange));
  OpDef eye = MakeOpDef("eye", 3, 3, "eye(n, m, k; dtype) (numpy.eye(n, m, k, dtype))", InferEye,
                        kNotDifferentiable);
  eye.attrs = {"dtype"};
  eye.infer_shape = [](NodeBuilder& b, const ir::Apply& node, auto) {
    return std::vector<SymbolicShape>{
        {b.Cast(node.inputs[0], DType::kInt64), b.Cast(node.inputs[1], DType::kInt64)}};
  };
  r.Add(std::move(eye));
}

}  // namespace

absl::StatusOr<int64_t> ShapeIndex(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t i, ir::GetAttr<int64_t>(node, "i"));
  const int ndim = node.inputs[0]->type.ndim();
  if (i < -ndim || i >= ndim) {
    return InvalidArgument("shape_i: dimension ", i, " is out of range for an input of rank ",
                           ndim);
  }
  return i < 0 ? i + ndim : i;
}

absl::StatusOr<runtime::Shape> AllocShape(std::span<const runtime::Tensor* const> in) {
  runtime::Shape shape;
  for (size_t i = 1; i < in.size(); ++i) {
    TENSORD_ASSIGN_OR_RETURN(auto v, ReadInts(*in[i], "a dimension"));
    if (v[0] < 0) return InvalidArgument("alloc: negative dimension ", v[0]);
    shape.push_back(v[0]);
  }
  // The value broadcasts to the shape: its dims, aligned right, are 1 or the shape's.
  const runtime::Shape& value = in[0]->shape();
  bool fits = value.size() <= shape.size();
  for (size_t d = 0; fits && d < value.size(); ++d) {
    const int64_t want = shape[shape.size() - value.size() + d];
    fits = value[d] == 1 || value[d] == want;
  }
  if (!fits) {
    return InvalidArgument("value of shape ", runtime::ShapeString(value),
                           " cannot be broadcast to shape ", runtime::ShapeString(shape));
  }
  return shape;
}

absl::StatusOr<Number> ReadNumber(const runtime::Tensor& t) {
  Number n;
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using T = typename decltype(tag)::type;
    const T v = *t.data<T>();
    n.is_int = !std::is_floating_point_v<T>;
    n.d = static_cast<double>(v);
    if constexpr (!std::is_floating_point_v<T>) n.i = static_cast<int64_t>(v);
    return absl::OkStatus();
  }));
  return n;
}

absl::StatusOr<int64_t> ArangeLength(const Number& start, const Number& stop, const Number& step) {
  if (start.is_int && stop.is_int && step.is_int) {
    if (step.i == 0) return InvalidArgument("arange: step must not be 0");
    const __int128 diff = static_cast<__int128>(stop.i) - start.i;
    __int128 q = diff / step.i;
    if (diff % step.i != 0 && ((diff < 0) == (step.i < 0))) ++q;
    return static_cast<int64_t>(q < 0 ? 0 : q);
  }
  if (step.d == 0) return InvalidArgument("arange: step must not be 0");
  const double delta = stop.d - start.d;
  const double len = delta / step.d;
  if (len == 0.0 && delta != 0.0) return std::signbit(len) ? 0 : 1;  // underflow, as NumPy
  if (std::isnan(len)) return InvalidArgument("arange: cannot compute the length (NaN)");
  const double ceil = std::ceil(len);
  if (ceil > 9.0e18) return InvalidArgument("arange: the length ", ceil, " is too large");
  return ceil < 0 ? 0 : static_cast<int64_t>(ceil);
}
}  // namespace creation

void RegisterCreationOps(Registry& r) {
  creation::RegisterCreation(r);
  creation::RegisterTileRepeatOps(r);
  creation::RegisterJoinSortOps(r);
}

}  // namespace tensord::ops
