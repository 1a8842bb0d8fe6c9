// Shape and dtype manipulation: reshape, dimshuffle, cast, fill, alloc.
#include <algorithm>
#include <set>

#include "absl/strings/str_join.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/grads/shape.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"
#include "engine/ops/scalar/logic.h"

namespace tensord::ops {
namespace {

using runtime::Shape;
using runtime::Tensor;

// ---- reshape(x, shape; ndim) ----

absl::StatusOr<std::vector<ir::Type>> InferReshape(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(int64_t ndim, ir::GetAttr<int64_t>(node, "ndim"));
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 1, "the shape argument"));
  if (ndim < 0 || ndim > ir::kMaxRank) {
    return InvalidArgument("ndim must be between 0 and ", ir::kMaxRank, ", got ", ndim);
  }
  ir::Type out = ir::Type::Of(node.inputs[0]->type.dtype, static_cast<int>(ndim));
  const ir::Variable* shape = node.inputs[1];
  if (shape->source == ir::Source::kConstant) {
    TENSORD_ASSIGN_OR_RETURN(auto dims, ReadInts(shape->constant, "the shape"));
    if (static_cast<int64_t>(dims.size()) != ndim) {
      return InvalidArgument("shape ", runtime::ShapeString(dims), " has ", dims.size(),
                             " entries but ndim is ", ndim);
    }
    for (int64_t i = 0; i < ndim; ++i) out.broadcastable[i] = dims[i] == 1;
  }
  return std::vector<ir::Type>{out};
}

// ---- dimshuffle(x; new_order) with -1 for 'x' ----

absl::StatusOr<std::vector<ir::Type>> InferDimshuffle(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto order, ir::GetIntsAttr(node, "new_order"));
  const ir::Type& in = node.inputs[0]->type;
  if (order.size() > static_cast<size_t>(ir::kMaxRank)) {
    return InvalidArgument("new_order has ", order.size(), " entries; the rank limit is ",
                           ir::kMaxRank);
  }
  ir::Type out{in.dtype, {}};
  std::set<int64_t> used;
  for (int64_t o : order) {
    if (o == -1) {
      out.broadcastable.push_back(true);
      continue;
    }
    if (o < 0 || o >= in.ndim() || !used.insert(o).second) {
      return InvalidArgument("invalid new_order entry ", o, " for an input of rank ", in.ndim());
    }
    out.broadcastable.push_back(in.broadcastable[o]);
  }
  for (int d = 0; d < in.ndim(); ++d) {
    if (!used.count(d) && !in.broadcastable[d]) {
      return InvalidArgument("cannot drop non-broadcastable dimension ", d, " of ",
                             ir::TypeString(in));
    }
  }
  return std::vector<ir::Type>{out};
}

// ---- cast(x; dtype) ----

absl::StatusOr<std::vector<ir::Type>> InferCast(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(DType to, ir::GetAttr<DType>(node, "dtype"));
  if (!IsValidDType(static_cast<int>(to)))
    return InvalidArgument("invalid target dtype ", static_cast<int>(to));
  if (to == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  return std::vector<ir::Type>{ir::Type{to, node.inputs[0]->type.broadcastable}};
}
// ---- fill(model, value) and alloc(value, *dims) ----

absl::StatusOr<std::vector<ir::Type>> InferFill(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(auto types, InferElementwise(node, ElemDTypeRule::kUpcast));
  types[0].dtype = node.inputs[1]->type.dtype;
  return types;
}

absl::StatusOr<std::vector<ir::Type>> InferAlloc(const ir::Apply& node) {
  const ir::Type& value = node.inputs[0]->type;
  int ndim = static_cast<int>(node.inputs.size()) - 1;
  if (ndim > ir::kMaxRank) {
    return InvalidArgument(ndim, " dimensions given; the rank limit is ", ir::kMaxRank);
  }
  if (value.ndim() > ndim) {
    return InvalidArgument("the value has rank ", value.ndim(), " but only ", ndim,
                           " dimensions were given");
  }
  ir::Type out = ir::Type::Of(value.dtype, ndim);
  for (int d = 0; d < ndim; ++d) {
    const ir::Variable* dim = node.inputs[d + 1];
    TENSORD_RETURN_IF_ERROR(RequireInt(dim, 0, "each dimension"));
    if (dim->source == ir::Source::kConstant) {
      TENSORD_ASSIGN_OR_RETURN(auto v, ReadInts(dim->constant, "a dimension"));
      out.broadcastable[d] = v[0] == 1;
    }
  }
  return std::vector<ir::Type>{out};
}

// ---- shape rules ----

// The target shape's entries where each is known to be a size or the -1 (a constant's, or a
// make_vector of constants and shape_i's); the -1 entry is the input's size over the product of
// the others. Unknown when the target is computed otherwise (a computed entry could be -1).
std::vector<SymbolicShape> ReshapeShape(NodeBuilder& b, const ir::Apply& node,
                                        std::span<const SymbolicShape> in) {
  const ir::Variable* target = node.inputs[1];
  SymbolicShape out;
  int inferred = -1;  // the -1 entry
  auto add_constant = [&](const runtime::Tensor& t) {
    absl::StatusOr<std::vector<int64_t>> dims = ReadInts(t, "the shape");
    if (!dims.ok()) return false;
    for (int64_t d : *dims) {
      if (d == -1) inferred = static_cast<int>(out.size());
      out.push_back(b.Constant(static_cast<double>(d), DType::kInt64));
    }
    return true;
  };
  if (target->source == ir::Source::kConstant) {
    if (!add_constant(target->constant)) return {};
  } else if (target->owner != nullptr && target->owner->op == "make_vector") {
    for (ir::Variable* d : target->owner->inputs) {
      if (d->source == ir::Source::kConstant) {
        if (!add_constant(d->constant)) return {};
      } else if (d->owner != nullptr && d->owner->op == "shape_i") {
        out.push_back(b.Cast(d, DType::kInt64));
      } else {
        return {};
      }
    }
  } else {
    return {};
  }
  if (inferred >= 0) {
    SymbolicShape known = out;
    known.erase(known.begin() + inferred);
    out[inferred] = b.Apply("int_div", {DimsProduct(b, in[0]), DimsProduct(b, known)});
  }
  return {out};
}

std::vector<SymbolicShape> DimshuffleShape(NodeBuilder& b, const ir::Apply& node,
                                           std::span<const SymbolicShape> in) {
  SymbolicShape out;
  for (int64_t o : ir::GetIntsAttr(node, "new_order").value_or(std::vector<int64_t>{}))
    out.push_back(o < 0 ? b.Constant(1, DType::kInt64) : in[0][o]);
  return {out};
}

// alloc(value, *dims): the dims inputs.
std::vector<SymbolicShape> AllocShape(NodeBuilder& b, const ir::Apply& node,
                                      std::span<const SymbolicShape>) {
  SymbolicShape out;
  for (size_t k = 1; k < node.inputs.size(); ++k)
    out.push_back(b.Cast(node.inputs[k], DType::kInt64));
  return {out};
}

// ---- specify_shape(x, shape): x, checked at run time to have `shape` ----

absl::StatusOr<std::vector<ir::Type>> InferSpecifyShape(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 1, "specify_shape: the shape"));
  return std::vector<ir::Type>{node.inputs[0]->type};
}

// The shape the node states, where the graph says it (a constant or make_vector of the right
// length); x's otherwise. Shape inference then answers x.shape without looking at x.
std::vector<SymbolicShape> SpecifiedShape(NodeBuilder& b, const ir::Apply& node,
                                          std::span<const SymbolicShape> in) {
  SymbolicShape stated = VectorEntries(b, node.inputs[1]);
  if (static_cast<int>(stated.size()) != node.inputs[0]->type.ndim()) return {in[0]};
  return {stated};
}

Grads SpecifyShapeGrad(NodeBuilder&, const ir::Apply&, OutGrads gz) { return {gz[0], nullptr}; }

}  // namespace

void RegisterShapeOps(Registry& r) {
  OpDef specify_shape =
      MakeOpDef("specify_shape", 2, 2,
                "specify_shape(x, shape): x itself (a view), after checking that its shape is "
                "`shape` (an error naming both otherwise); shape inference takes the stated "
                "shape (Theano's T.specify_shape / SpecifyShape)",
                InferSpecifyShape, SpecifyShapeGrad);
  specify_shape.infer_shape = SpecifiedShape;
  specify_shape.theano.name = "SpecifyShape";
  r.Add(std::move(specify_shape));
  OpDef reshape =
      MakeOpDef("reshape", 2, 2, "reshape(x, shape; ndim) (numpy.reshape; one -1 allowed)",
                InferReshape, ReshapeGrad);
  reshape.infer_shape = ReshapeShape;
  reshape.attrs = {"ndim"};
  reshape.theano_render = [](const ir::Apply& node, const std::string&) {
    return absl::StrCat("Reshape{", node.outputs[0]->type.ndim(), "}");
  };
  r.Add(std::move(reshape));
  OpDef dimshuffle = MakeOpDef(
      "dimshuffle", 1, 1,
      "dimshuffle(x; new_order, -1 = new broadcastable dim) (numpy.transpose + expand_dims)",
      InferDimshuffle, DimshuffleGrad);
  dimshuffle.infer_shape = DimshuffleShape;
  dimshuffle.attrs = {"new_order"};
  dimshuffle.theano_render = [](const ir::Apply& node, const std::string&) {
    std::vector<std::string> order;
    for (int64_t e : ir::GetIntsAttr(node, "new_order").value_or(std::vector<int64_t>{}))
      order.push_back(e < 0 ? "x" : absl::StrCat(e));
    return absl::StrCat("InplaceDimShuffle{", absl::StrJoin(order, ","), "}");
  };
  r.Add(std::move(dimshuffle));
  OpDef cast =
      MakeOpDef("cast", 1, 1, "cast(x; dtype) (numpy.ndarray.astype)", InferCast, CastGrad);
  cast.tags = kTagElementwise;
  cast.infer_shape = BroadcastShape;
  cast.attrs = {"dtype"};
  cast.theano_render = [](const ir::Apply& node, const std::string& inplace) {
    return absl::StrCat("Elemwise{Cast{", DTypeName(node.outputs[0]->type.dtype), "}}", inplace);
  };
  r.Add(std::move(cast));
  // Theano's fill is the scalar op `second`: in a composite it takes the value and leaves the
  // model to broadcasting. Its standalone kernel copies (the model may be any dtype).
  OpDef fill = MakeOpDef("fill", 2, 2,
                         "fill(model, value): value broadcast to model's shape (numpy.full_like)",
                         InferFill, FillGrad);
  fill.scalar = MakeScalarForm<scalar::Second, 2>();
  fill.scalar->opcode = 48;
  fill.scalar->format = "second($0, $1)";
  fill.theano = {"second", "Second"};
  fill.tags = kTagElementwise;
  fill.infer_shape = BroadcastShape;
  r.Add(std::move(fill));
  OpDef alloc =
      MakeOpDef("alloc", 1, -1, "alloc(value, *dims): value broadcast to shape dims (numpy.full)",
                InferAlloc, AllocGrad);
  alloc.theano.name = "Alloc";
  alloc.infer_shape = AllocShape;
  r.Add(std::move(alloc));
}

}  // namespace tensord::ops
