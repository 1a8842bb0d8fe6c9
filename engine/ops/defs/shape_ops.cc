// Shape and dtype manipulation: reshape, dimshuffle, cast, fill, alloc.
#include <algorithm>
#include <set>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/backends/cpu/elementwise.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/type_rules.h"
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

class ReshapeKernel final : public Kernel {
 public:
  explicit ReshapeKernel(int64_t ndim) : ndim_(ndim) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    TENSORD_ASSIGN_OR_RETURN(Shape shape, ReadInts(*in[1], "the shape"));
    // A symbolic shape can have any length at run time; the declared rank is what every
    // downstream kernel was compiled for.
    if (static_cast<int64_t>(shape.size()) != ndim_) {
      return InvalidArgument("the shape ", runtime::ShapeString(shape), " has ", shape.size(),
                             " entries but the reshape was declared with ndim=", ndim_);
    }
    int unknown = -1;
    int64_t known = 1;
    for (size_t i = 0; i < shape.size(); ++i) {
      if (shape[i] == -1 && unknown < 0) {
        unknown = static_cast<int>(i);
      } else if (shape[i] < 0 || __builtin_mul_overflow(known, shape[i], &known)) {
        return InvalidArgument("cannot reshape array of size ", x.num_elements(), " into shape ",
                               runtime::ShapeString(shape));
      }
    }
    bool fits =
        unknown < 0 ? known == x.num_elements() : known != 0 && x.num_elements() % known == 0;
    if (!fits) {
      return InvalidArgument("cannot reshape array of size ", x.num_elements(), " into shape ",
                             runtime::ShapeString(shape));
    }
    if (unknown >= 0) shape[unknown] = x.num_elements() / known;
    return cpu::ViewAsShape(x, std::move(shape), *out[0]);
  }

 private:
  const int64_t ndim_;
};

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

// Always a view: the output reads the input's buffer through permuted strides.
class DimshuffleKernel final : public Kernel {
 public:
  explicit DimshuffleKernel(std::vector<int64_t> order) : order_(std::move(order)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    Shape shape;
    cpu::Strides strides;
    for (int64_t o : order_) {
      shape.push_back(o < 0 ? 1 : x.shape()[o]);
      strides.push_back(o < 0 ? 0 : x.strides()[o]);
    }
    *out[0] = x.StridedView(std::move(shape), std::move(strides), 0);
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> order_;
};

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

absl::Status BroadcastInto(const Tensor& value, Shape shape, Tensor& out) {
  const Shape* shapes[] = {&value.shape(), &shape};
  TENSORD_ASSIGN_OR_RETURN(Shape joint, cpu::BroadcastShapes(shapes));
  if (joint != shape) {
    return InvalidArgument("value of shape ", runtime::ShapeString(value.shape()),
                           " cannot be broadcast to shape ", runtime::ShapeString(shape));
  }
  TENSORD_RETURN_IF_ERROR(out.Reshape(value.dtype(), shape));
  cpu::StridedCopyAny(value, cpu::BroadcastStrides(value, shape), out);
  return absl::OkStatus();
}

class FillKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Shape* shapes[] = {&in[0]->shape(), &in[1]->shape()};
    TENSORD_ASSIGN_OR_RETURN(Shape shape, cpu::BroadcastShapes(shapes));
    return BroadcastInto(*in[1], std::move(shape), *out[0]);
  }
};

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

class AllocKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    Shape shape;
    for (size_t i = 1; i < in.size(); ++i) {
      TENSORD_ASSIGN_OR_RETURN(auto v, ReadInts(*in[i], "a dimension"));
      if (v[0] < 0) return InvalidArgument("alloc: negative dimension ", v[0]);
      shape.push_back(v[0]);
    }
    return BroadcastInto(*in[0], std::move(shape), *out[0]);
  }
};

}  // namespace

void RegisterShapeOps(Registry& r) {
  r.Add(MakeOpDef("reshape", 2, 2, "reshape(x, shape; ndim) (numpy.reshape; one -1 allowed)",
                  InferReshape,
                  [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                    TENSORD_ASSIGN_OR_RETURN(int64_t ndim, ir::GetAttr<int64_t>(node, "ndim"));
                    return std::unique_ptr<Kernel>(new ReshapeKernel(ndim));
                  }));
  r.Add(MakeOpDef(
      "dimshuffle", 1, 1,
      "dimshuffle(x; new_order, -1 = new broadcastable dim) (numpy.transpose + expand_dims)",
      InferDimshuffle, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        TENSORD_ASSIGN_OR_RETURN(auto order, ir::GetIntsAttr(node, "new_order"));
        return std::unique_ptr<Kernel>(new DimshuffleKernel(std::move(order)));
      }));
  OpDef cast = MakeOpDef("cast", 1, 1, "cast(x; dtype) (numpy.ndarray.astype)", InferCast,
                         [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
                           TENSORD_ASSIGN_OR_RETURN(DType to, ir::GetAttr<DType>(node, "dtype"));
                           return std::unique_ptr<Kernel>(new cpu::CastKernel(to));
                         });
  cast.tags = kTagElementwise;  // printed Elemwise{Cast{float32}} (the printer reads its dtype)
  r.Add(std::move(cast));
  // Theano's fill is the scalar op `second`: in a composite it takes the value and leaves the
  // model to broadcasting. Its standalone kernel copies (the model may be any dtype).
  OpDef fill = MakeOpDef("fill", 2, 2,
                         "fill(model, value): value broadcast to model's shape (numpy.full_like)",
                         InferFill, cpu::MakeKernel<FillKernel>());
  fill.scalar = MakeScalarForm<scalar::Second, 2>();
  fill.scalar->opcode = 48;
  fill.scalar->format = "second($0, $1)";
  fill.theano = {"second", "Second"};
  fill.tags = kTagElementwise;
  r.Add(std::move(fill));
  r.Add(MakeOpDef("alloc", 1, -1, "alloc(value, *dims): value broadcast to shape dims (numpy.full)",
                  InferAlloc, cpu::MakeKernel<AllocKernel>()));
}

}  // namespace tensord::ops
