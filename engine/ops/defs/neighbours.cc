// Declarations of images2neibs and neibs2images (see neighbours.h).
#include "engine/ops/defs/neighbours.h"

#include <algorithm>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

absl::StatusOr<NeibsAttrs> GetNeibsAttrs(const ir::Apply& node) {
  NeibsAttrs a;
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> shape, ir::GetIntsAttr(node, "neib_shape"));
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> step, ir::GetIntsAttr(node, "neib_step"));
  TENSORD_ASSIGN_OR_RETURN(std::string mode, ir::GetAttr<std::string>(node, "mode"));
  if (mode == "valid") {
    a.mode = NeibsMode::kValid;
  } else if (mode == "ignore_borders") {
    a.mode = NeibsMode::kIgnoreBorders;
  } else if (mode == "half") {
    a.mode = NeibsMode::kHalf;
  } else if (mode == "full") {
    a.mode = NeibsMode::kFull;
  } else if (mode == "wrap_centered") {
    a.mode = NeibsMode::kWrapCentered;
  } else {
    return InvalidArgument(node.op, ": mode must be 'valid', 'ignore_borders', 'half', 'full' or ",
                           "'wrap_centered', got '", mode.substr(0, 64), "'");
  }
  for (auto [name, values, out] :
       {std::tuple{"neib_shape", &shape, a.shape}, std::tuple{"neib_step", &step, a.step}}) {
    if (values->size() != 2) {
      return InvalidArgument(node.op, ": ", name, " needs 2 values, got ", values->size());
    }
    for (int d = 0; d < 2; ++d) {
      if ((*values)[d] < 1 || (*values)[d] > (int64_t{1} << 20)) {
        return InvalidArgument(node.op, ": ", name, " values must be in [1, 2^20], got ",
                               (*values)[d]);
      }
      out[d] = (*values)[d];
    }
  }
  if (a.mode == NeibsMode::kWrapCentered && (a.shape[0] % 2 == 0 || a.shape[1] % 2 == 0)) {
    return InvalidArgument(node.op, ": mode 'wrap_centered' needs a patch of odd sizes (it has a ",
                           "centre), got neib_shape=(", a.shape[0], ", ", a.shape[1], ")");
  }
  return a;
}

absl::StatusOr<int64_t> NeibsCount(const NeibsAttrs& a, int d, int64_t size, const char* op) {
  if (a.mode == NeibsMode::kWrapCentered) {  // a patch wraps around the image at most once
    if (size < a.shape[d]) {
      return InvalidArgument(op, ": mode 'wrap_centered' needs image dim ", 2 + d, " (size ", size,
                             ") at least as large as the patch (", a.shape[d], ")");
    }
    return (size + a.step[d] - 1) / a.step[d];
  }
  const int64_t span = size + 2 * a.Pad(d) - a.shape[d];
  if (span < 0) {
    return InvalidArgument(op, ": a patch of ", a.shape[d], " does not fit in image dim ", 2 + d,
                           " of size ", size, a.Pad(d) ? " (padded)" : "");
  }
  if (a.mode != NeibsMode::kIgnoreBorders && span % a.step[d] != 0) {
    return InvalidArgument(op, ": modes 'valid', 'half' and 'full' need patches that tile the ",
                           "(padded) image: neib_shape[", d, "]=", a.shape[d], ", neib_step[", d,
                           "]=", a.step[d], " and image size ", size,
                           " leave a border (use 'ignore_borders')");
  }
  return span / a.step[d] + 1;
}

absl::StatusOr<NeibsLayout> NeibsLayoutOf(const NeibsAttrs& a, const std::string& op_name,
                                          std::span<const runtime::Tensor* const> inputs) {
  const char* op = op_name.c_str();
  NeibsLayout l;
  if (op_name == "images2neibs") {
    l.image = inputs[0]->shape();
  } else {
    TENSORD_ASSIGN_OR_RETURN(l.image, ReadInts(*inputs[1], "the image shape"));
    if (l.image.size() != 4) {
      return InvalidArgument(op, ": the image shape needs 4 values, got ", l.image.size());
    }
    for (int64_t s : l.image) {
      if (s < 0 || s > (int64_t{1} << 40)) {
        return InvalidArgument(op, ": image sizes must be in [0, 2^40], got ", s);
      }
    }
  }
  if (__builtin_mul_overflow(l.image[0], l.image[1], &l.planes)) {
    return InvalidArgument(op, ": image shape ", runtime::ShapeString(l.image), " is too large");
  }
  for (int d = 0; d < 2; ++d) {
    TENSORD_ASSIGN_OR_RETURN(l.count[d], NeibsCount(a, d, l.image[2 + d], op));
  }
  // Checked: hostile sizes must not wrap into a small, wrong shape.
  int64_t width = 0, patches = 0, rows = 0, elements = 0;
  if (__builtin_mul_overflow(a.shape[0], a.shape[1], &width) ||
      __builtin_mul_overflow(l.count[0], l.count[1], &patches) ||
      __builtin_mul_overflow(l.planes, patches, &rows) ||
      __builtin_mul_overflow(rows, width, &elements)) {
    return absl::ResourceExhaustedError(
        absl::StrCat(op, ": the patches of ", runtime::ShapeString(l.image), " (", a.shape[0], "x",
                     a.shape[1], ") are too many elements"));
  }
  l.neibs = {rows, width};
  if (op_name != "images2neibs" && inputs[0]->shape() != l.neibs) {
    return InvalidArgument(op, ": patches of shape ", runtime::ShapeString(inputs[0]->shape()),
                           " do not match the image shape ", runtime::ShapeString(l.image),
                           ", which has ", runtime::ShapeString(l.neibs));
  }
  return l;
}

namespace {

absl::StatusOr<std::vector<ir::Type>> InferNeibs(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(GetNeibsAttrs(node).status());
  const ir::Type& x = node.inputs[0]->type;
  if (node.op == "images2neibs") {
    if (x.ndim() != 4) {
      return InvalidArgument(
          "images2neibs needs a 4-d input (batch, channels, rows, cols), "
          "got ",
          ir::TypeString(x));
    }
    return std::vector<ir::Type>{ir::Type{x.dtype, {false, false}}};
  }
  if (x.ndim() != 2) {
    return InvalidArgument("neibs2images needs a matrix of patches, got ", ir::TypeString(x));
  }
  TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[1], 1, "neibs2images: the image shape"));
  return std::vector<ir::Type>{ir::Type{x.dtype, {false, false, false, false}}};
}

Grads Images2NeibsGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr};
  return {
      b.Apply("neibs2images", {gz[0], b.Shape(node.inputs[0])}, NodeBuilder::DeclaredAttrs(node))};
}

Grads Neibs2ImagesGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr};
  return {b.Apply("images2neibs", {gz[0]}, NodeBuilder::DeclaredAttrs(node)), nullptr};
}

// (N*C*ph*pw, nh*nw) with ph, pw as the kernel counts them (floor of the padded span / step).
std::vector<SymbolicShape> Images2NeibsShape(NodeBuilder& b, const ir::Apply& node,
                                             std::span<const SymbolicShape> in) {
  absl::StatusOr<NeibsAttrs> a = GetNeibsAttrs(node);
  if (!a.ok()) return {};
  auto c = [&](int64_t v) { return b.Constant(static_cast<double>(v), DType::kInt64); };
  ir::Variable* rows = b.Mul(in[0][0], in[0][1]);
  for (int d = 0; d < 2; ++d) {
    if (a->mode == NeibsMode::kWrapCentered) {  // ceil(size / step)
      ir::Variable* size = b.Add(in[0][2 + d], c(a->step[d] - 1));
      rows = b.Mul(rows, b.Apply("int_div", {size, c(a->step[d])}));
      continue;
    }
    ir::Variable* span = b.Sub(b.Add(in[0][2 + d], c(2 * a->Pad(d))), c(a->shape[d]));
    rows = b.Mul(rows, b.Add(b.Apply("int_div", {span, c(a->step[d])}), c(1)));
  }
  return {{rows, c(a->shape[0] * a->shape[1])}};
}

OpDef NeibsDef(const char* name, int arity, const char* doc, GradFn grad, const char* theano) {
  OpDef d = MakeOpDef(name, arity, arity, doc, InferNeibs, std::move(grad));
  d.attrs = {"neib_shape", "neib_step", "mode"};
  d.theano.name = theano;
  return d;
}

}  // namespace

void RegisterNeighbours(Registry& r) {
  OpDef images2neibs = NeibsDef(
      "images2neibs", 1,
      "images2neibs(x; neib_shape, neib_step, mode): the (rows, cols) patches of a (N, C, H, W) "
      "input, one per row of an (N*C*patches, rows*cols) matrix (Theano's "
      "T.nnet.neighbours.images2neibs; mode 'valid' | 'ignore_borders' | 'half' | 'full' | "
      "'wrap_centered')",
      Images2NeibsGrad, "Images2Neibs");
  images2neibs.infer_shape = Images2NeibsShape;
  r.Add(std::move(images2neibs));
  OpDef neibs2images = NeibsDef(
      "neibs2images", 2,
      "neibs2images(neibs, image_shape; same attributes): images2neibs' adjoint, each patch "
      "summed back into a zero image of image_shape (its inverse for non-overlapping "
      "patches, Theano's neibs2images)",
      Neibs2ImagesGrad, "Neibs2Images");
  neibs2images.infer_shape = [](NodeBuilder& b, const ir::Apply& node, auto) {
    SymbolicShape image = VectorEntries(b, node.inputs[1]);
    if (image.size() != 4) return std::vector<SymbolicShape>{};
    return std::vector<SymbolicShape>{image};
  };
  r.Add(std::move(neibs2images));
}

}  // namespace tensord::ops
