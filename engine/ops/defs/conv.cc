// Declarations of conv, conv_grad_inputs and conv_grad_weights (see conv.h): attributes, type
// inference, shape rules and Theano's print names.
#include "engine/ops/defs/conv.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/conv.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

using runtime::Shape;

namespace {

constexpr std::pair<const char*, BorderMode> kBorderModes[] = {{"valid", BorderMode::kValid},
                                                               {"full", BorderMode::kFull},
                                                               {"half", BorderMode::kHalf},
                                                               {"pad", BorderMode::kExplicit}};

}  // namespace

int64_t ConvAttrs::Pad(int d, int64_t k) const {
  switch (border) {
    case BorderMode::kValid:
      return 0;
    case BorderMode::kFull:
      return Dilated(d, k) - 1;
    case BorderMode::kHalf:
      return Dilated(d, k) / 2;
    case BorderMode::kExplicit:
      return pad[d];
  }
  return 0;
}

absl::StatusOr<ConvAttrs> GetConvAttrs(const ir::Apply& node) {
  ConvAttrs a;
  a.nd = node.inputs[0]->type.ndim() - 2;
  if (a.nd < 1 || a.nd > 3) {
    return InvalidArgument(node.op, ": the first operand must have 3, 4 or 5 dims (batch, ",
                           "channels, 1 to 3 spatial dims), got ",
                           ir::TypeString(node.inputs[0]->type));
  }
  TENSORD_ASSIGN_OR_RETURN(std::string border, ir::GetAttr<std::string>(node, "border_mode"));
  auto mode = std::find_if(std::begin(kBorderModes), std::end(kBorderModes),
                           [&](const auto& m) { return border == m.first; });
  if (mode == std::end(kBorderModes)) {
    return InvalidArgument(node.op, ": border_mode must be 'valid', 'full', 'half' or 'pad', got '",
                           border.substr(0, 64), "'");
  }
  a.border = mode->second;
  TENSORD_ASSIGN_OR_RETURN(a.pad, ir::GetIntsAttr(node, "pad"));
  TENSORD_ASSIGN_OR_RETURN(a.subsample, ir::GetIntsAttr(node, "subsample"));
  TENSORD_ASSIGN_OR_RETURN(a.dilation, ir::GetIntsAttr(node, "filter_dilation"));
  TENSORD_ASSIGN_OR_RETURN(a.groups, ir::GetAttr<int64_t>(node, "num_groups"));
  TENSORD_ASSIGN_OR_RETURN(a.flip, ir::GetAttr<bool>(node, "filter_flip"));
  for (auto [name, values, least] : {std::tuple{"pad", &a.pad, 0},
                                     {"subsample", &a.subsample, 1},
                                     {"filter_dilation", &a.dilation, 1}}) {
    if (static_cast<int>(values->size()) != a.nd) {
      return InvalidArgument(node.op, ": ", name, " needs one value per spatial dim (", a.nd,
                             "), got ", values->size());
    }
    for (int64_t v : *values) {
      // 2^20 bounds every product of these sizes far from overflow.
      if (v < least || v > (int64_t{1} << 20)) {
        return InvalidArgument(node.op, ": ", name, " values must be in [", least, ", 2^20], got ",
                               v);
      }
    }
  }
  if (a.groups < 1 || a.groups > (int64_t{1} << 20)) {
    return InvalidArgument(node.op, ": num_groups must be >= 1, got ", a.groups);
  }
  if (node.op == "conv_fused") {
    TENSORD_ASSIGN_OR_RETURN(std::string activation, ir::GetAttr<std::string>(node, "activation"));
    if (activation != "identity" && activation != "relu") {
      return InvalidArgument(node.op, ": activation must be 'identity' or 'relu', got '",
                             activation.substr(0, 64), "'");
    }
    a.relu = activation == "relu";
  }
  return a;
}

Shape ConvGeometry::InputShape() const {
  Shape s{batch, channels};
  s.insert(s.end(), in.begin(), in.end());
  return s;
}
Shape ConvGeometry::FilterShape() const {
  Shape s{out_channels, channels / groups};
  s.insert(s.end(), kernel.begin(), kernel.end());
  return s;
}
Shape ConvGeometry::OutputShape() const {
  Shape s{batch, out_channels};
  s.insert(s.end(), out.begin(), out.end());
  return s;
}

absl::StatusOr<ConvGeometry> MakeConvGeometry(const ConvAttrs& a, const Shape& input,
                                              const Shape& filters, const char* op) {
  ConvGeometry g;
  g.batch = input[0];
  g.channels = input[1];
  g.out_channels = filters[0];
  g.groups = a.groups;
  if (g.channels != filters[1] * a.groups) {
    return InvalidArgument(op, ": the input has ", g.channels, " channels but the filters ",
                           runtime::ShapeString(filters), " take ", filters[1], " x num_groups ",
                           a.groups, " = ", filters[1] * a.groups);
  }
  if (g.out_channels % a.groups != 0) {
    return InvalidArgument(op, ": ", g.out_channels, " output channels do not split into ",
                           a.groups, " groups");
  }
  for (int d = 0; d < a.nd; ++d) {
    const int64_t i = input[2 + d], k = filters[2 + d];
    if (k < 1)
      return InvalidArgument(op, ": the filters ", runtime::ShapeString(filters),
                             " have no taps on spatial dim ", d);
    const int64_t p = a.Pad(d, k), span = i + 2 * p - a.Dilated(d, k);
    if (span < 0) {
      return InvalidArgument(op, ": on spatial dim ", d, " the filter spans ", a.Dilated(d, k),
                             " (", k, " taps, dilation ", a.dilation[d],
                             ") but the padded input has only ", i + 2 * p, " (", i, " + 2 x ", p,
                             ")");
    }
    g.in.push_back(i);
    g.kernel.push_back(k);
    g.out.push_back(span / a.subsample[d] + 1);
    g.stride.push_back(a.subsample[d]);
    g.pad.push_back(p);
    g.dilation.push_back(a.dilation[d]);
  }
  return g;
}

absl::Status CheckTopGrad(const ConvGeometry& g, const Shape& topgrad, const char* op) {
  if (topgrad != g.OutputShape()) {
    return InvalidArgument(op, ": the output gradient has shape ", runtime::ShapeString(topgrad),
                           " but the convolution it comes from gives ",
                           runtime::ShapeString(g.OutputShape()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ConvGeometry> OperandGeometry(const ConvAttrs& a, const std::string& op_name,
                                             std::span<const runtime::Tensor* const> in) {
  const char* op = op_name.c_str();
  const Shape& first = in[0]->shape();
  const Shape& second = in[1]->shape();
  if (op_name == "conv" || op_name == "conv_fused") return MakeConvGeometry(a, first, second, op);
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> spatial, ReadInts(*in[2], "the spatial shape"));
  if (static_cast<int>(spatial.size()) != a.nd) {
    return InvalidArgument(op, ": the spatial shape needs ", a.nd, " values, got ", spatial.size());
  }
  for (int64_t s : spatial) {
    if (s < 0 || s > (int64_t{1} << 31)) {
      return InvalidArgument(op, ": spatial sizes must be in [0, 2^31], got ", s);
    }
  }
  Shape input, filters;
  if (op_name == "conv_grad_inputs") {  // (filters, topgrad, input spatial shape)
    input = {second[0], first[1] * a.groups};
    input.insert(input.end(), spatial.begin(), spatial.end());
    filters = first;
  } else {  // conv_grad_weights: (input, topgrad, filter spatial shape)
    if (first[1] % a.groups != 0) {
      return InvalidArgument(op, ": ", first[1], " input channels do not split into ", a.groups,
                             " groups");
    }
    input = first;
    filters = {second[1], first[1] / a.groups};
    filters.insert(filters.end(), spatial.begin(), spatial.end());
  }
  TENSORD_ASSIGN_OR_RETURN(ConvGeometry g, MakeConvGeometry(a, input, filters, op));
  TENSORD_RETURN_IF_ERROR(CheckTopGrad(g, second, op));
  return g;
}

absl::Status CheckConvBias(const runtime::Tensor& bias, DType result, int64_t channels) {
  if (bias.dtype() != result) {
    return InvalidArgument("conv_fused: the bias is ", DTypeName(bias.dtype()), ", the result ",
                           DTypeName(result));
  }
  if (bias.num_elements() != channels && bias.num_elements() != 1) {
    return InvalidArgument("conv_fused: a bias of shape ", runtime::ShapeString(bias.shape()),
                           " does not broadcast over ", channels, " output channels");
  }
  return absl::OkStatus();
}

ConvDims3 PaddedTo3(const ConvGeometry& g) {
  ConvDims3 q;
  const int nd = static_cast<int>(g.in.size()), skip = 3 - nd;
  for (int i = 0; i < 3; ++i) {
    const bool pad = i < skip;
    q.in[i] = pad ? 1 : g.in[i - skip];
    q.k[i] = pad ? 1 : g.kernel[i - skip];
    q.out[i] = pad ? 1 : g.out[i - skip];
    q.s[i] = pad ? 1 : g.stride[i - skip];
    q.p[i] = pad ? 0 : g.pad[i - skip];
    q.d[i] = pad ? 1 : g.dilation[i - skip];
  }
  q.in_size = q.in[0] * q.in[1] * q.in[2];
  q.taps = q.k[0] * q.k[1] * q.k[2];
  q.out_size = q.out[0] * q.out[1] * q.out[2];
  q.group_in = g.channels / g.groups;
  q.group_out = g.out_channels / g.groups;
  q.col_rows = q.group_in * q.taps;
  return q;
}

namespace {

// Float operands of equal rank, the first one's rank nd + 2 (checked by GetConvAttrs).
absl::StatusOr<DType> ConvDType(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(GetConvAttrs(node).status());
  const ir::Type& a = node.inputs[0]->type;
  const ir::Type& b = node.inputs[1]->type;
  if (b.ndim() != a.ndim()) {
    return InvalidArgument(node.op, ": operands of rank ", a.ndim(), " and ", b.ndim(),
                           " (both need batch/channel dims and the same spatial dims): ",
                           ir::TypeString(a), ", ", ir::TypeString(b));
  }
  const DType dtype = Promote(a.dtype, b.dtype);
  if (dtype != DType::kFloat32 && dtype != DType::kFloat64) {
    return InvalidArgument(node.op, " needs float32 or float64 operands, got ", ir::TypeString(a),
                           " and ", ir::TypeString(b));
  }
  if (node.op == "conv_fused") {  // a bias broadcasting over all but the channel dim
    const ir::Type& bias = node.inputs[2]->type;
    bool per_channel = bias.ndim() == a.ndim() && bias.dtype == dtype;
    for (int d = 0; per_channel && d < bias.ndim(); ++d)
      per_channel = d == 1 || bias.broadcastable[d];
    if (!per_channel) {
      return InvalidArgument(node.op, ": the bias must be a ", DTypeName(dtype), " tensor of rank ",
                             a.ndim(), " broadcastable but along dim 1 (channels), got ",
                             ir::TypeString(bias));
    }
  } else if (node.inputs.size() == 3) {
    TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[2], 1, "conv gradient: the spatial shape"));
  }
  return dtype;
}

// Output type: dims 0 and 1 broadcastable as `b0` and `b1` say (each an operand dim's); spatial
// dims never are (a size-1 result is a run-time fact).
absl::StatusOr<std::vector<ir::Type>> ConvType(const ir::Apply& node, bool b0, bool b1) {
  TENSORD_ASSIGN_OR_RETURN(DType dtype, ConvDType(node));
  ir::Type out{dtype, std::vector<bool>(node.inputs[0]->type.ndim(), false)};
  out.broadcastable[0] = b0;
  out.broadcastable[1] = b1;
  return std::vector<ir::Type>{out};
}

std::vector<std::optional<DType>> OperandsAsOutput(const ir::Apply& node) {
  std::vector<std::optional<DType>> d(node.inputs.size());
  d[0] = d[1] = node.outputs[0]->type.dtype;
  if (node.op == "conv_fused") d[2] = d[0];  // the bias (the others' third input is int)
  return d;
}

// (i + 2 pad - dilated) // stride + 1 as int64 scalar nodes, for filter taps `k`.
ir::Variable* OutDim(NodeBuilder& b, const ConvAttrs& a, int d, ir::Variable* i, ir::Variable* k) {
  auto c = [&](int64_t v) { return b.Constant(static_cast<double>(v), DType::kInt64); };
  auto div = [&](ir::Variable* x, int64_t v) { return b.Apply("int_div", {x, c(v)}); };
  ir::Variable* dilated = b.Add(b.Mul(b.Sub(k, c(1)), c(a.dilation[d])), c(1));
  ir::Variable* twice_pad = nullptr;
  switch (a.border) {
    case BorderMode::kValid:
      twice_pad = c(0);
      break;
    case BorderMode::kFull:
      twice_pad = b.Mul(b.Sub(dilated, c(1)), c(2));
      break;
    case BorderMode::kHalf:
      twice_pad = b.Mul(div(dilated, 2), c(2));
      break;
    case BorderMode::kExplicit:
      twice_pad = c(2 * a.pad[d]);
      break;
  }
  return b.Add(div(b.Sub(b.Add(i, twice_pad), dilated), a.subsample[d]), c(1));
}

std::vector<SymbolicShape> ConvShape(NodeBuilder& b, const ir::Apply& node,
                                     std::span<const SymbolicShape> in) {
  absl::StatusOr<ConvAttrs> a = GetConvAttrs(node);
  if (!a.ok()) return {};
  SymbolicShape out{in[0][0], in[1][0]};
  for (int d = 0; d < a->nd; ++d) out.push_back(OutDim(b, *a, d, in[0][2 + d], in[1][2 + d]));
  return {out};
}

std::vector<SymbolicShape> GradInputsShape(NodeBuilder& b, const ir::Apply& node,
                                           std::span<const SymbolicShape> in) {
  absl::StatusOr<ConvAttrs> a = GetConvAttrs(node);
  SymbolicShape spatial = VectorEntries(b, node.inputs[2]);
  if (!a.ok() || static_cast<int>(spatial.size()) != a->nd) return {};
  SymbolicShape out{in[1][0],
                    b.Mul(in[0][1], b.Constant(static_cast<double>(a->groups), DType::kInt64))};
  out.insert(out.end(), spatial.begin(), spatial.end());
  return {out};
}

std::vector<SymbolicShape> GradWeightsShape(NodeBuilder& b, const ir::Apply& node,
                                            std::span<const SymbolicShape> in) {
  absl::StatusOr<ConvAttrs> a = GetConvAttrs(node);
  SymbolicShape spatial = VectorEntries(b, node.inputs[2]);
  if (!a.ok() || static_cast<int>(spatial.size()) != a->nd) return {};
  SymbolicShape out{
      in[1][1],
      b.Apply("int_div", {in[0][1], b.Constant(static_cast<double>(a->groups), DType::kInt64)})};
  out.insert(out.end(), spatial.begin(), spatial.end());
  return {out};
}

// Theano's names: AbstractConv2d{border_mode='valid', subsample=(1, 1), ...}.
TheanoRenderFn ConvName(const char* suffix) {
  return [suffix](const ir::Apply& node, const std::string&) -> std::string {
    absl::StatusOr<ConvAttrs> a = GetConvAttrs(node);
    if (!a.ok()) return absl::StrCat("AbstractConv", suffix);
    auto tuple = [](const std::vector<int64_t>& v) {
      return absl::StrCat("(", absl::StrJoin(v, ", "), v.size() == 1 ? ",)" : ")");
    };
    // Theano prints explicit pads as a tuple, the named modes quoted.
    std::string border = tuple(a->pad);
    for (const auto& [name, mode] : kBorderModes)
      if (mode == a->border && mode != BorderMode::kExplicit) border = absl::StrCat("'", name, "'");
    return absl::StrCat("AbstractConv", a->nd, "d", suffix, "{border_mode=", border,
                        ", subsample=", tuple(a->subsample),
                        ", filter_flip=", a->flip ? "True" : "False",
                        ", filter_dilation=", tuple(a->dilation), ", num_groups=", a->groups,
                        node.op == "conv_fused" && a->relu ? ", activation='relu'" : "", "}");
  };
}

OpDef ConvDef(const char* name, int arity, const char* doc, InferTypesFn infer, GradFn grad,
              InferShapeFn shape, const char* theano_suffix) {
  OpDef d = MakeOpDef(name, arity, arity, doc, std::move(infer), std::move(grad));
  d.attrs = {"border_mode", "pad", "subsample", "filter_dilation", "num_groups", "filter_flip"};
  d.input_dtypes = OperandsAsOutput;
  d.infer_shape = std::move(shape);
  d.theano_render = ConvName(theano_suffix);
  return d;
}

}  // namespace

void RegisterConv(Registry& r) {
  r.Add(ConvDef(
      "conv", 2,
      "conv(input, filters; border_mode, pad, subsample, filter_dilation, num_groups, "
      "filter_flip): N-d convolution of (batch, channels, *spatial) by (out_channels, "
      "channels/num_groups, *taps), Theano's conv2d/conv3d (border_mode 'valid' | 'full' | "
      "'half' | 'pad' with pad)",
      [](const ir::Apply& n) {
        return ConvType(n, n.inputs[0]->type.broadcastable[0], n.inputs[1]->type.broadcastable[0]);
      },
      ConvGrad, ConvShape, ""));
  OpDef fused = ConvDef(
      "conv_fused", 3,
      "conv_fused(input, filters, bias; conv's attributes, activation): activation(conv(input, "
      "filters) + bias), bias broadcasting over all but dim 1, activation 'identity' or 'relu'; "
      "made by the optimizer from conv + bias (+ max(., 0)): oneDNN adds the bias as the "
      "convolution writes its output, relu follows in the same kernel (exactly maximum(x, 0): "
      "oneDNN's relu post-op turns NaN into 0)",
      [](const ir::Apply& n) {
        return ConvType(n, n.inputs[0]->type.broadcastable[0], n.inputs[1]->type.broadcastable[0]);
      },
      // The conv_epilogue pass runs at compile time, after Differentiate built the gradient
      // graph: no gradient flows through a conv_fused the server made, and one a client sends
      // stops gradients with a clear error (as gemm).
      kNotDifferentiable, ConvShape, "_bias");
  fused.attrs.push_back("activation");
  r.Add(std::move(fused));
  r.Add(ConvDef(
      "conv_grad_inputs", 3,
      "conv_grad_inputs(filters, topgrad, input_spatial_shape; same attributes as conv): the "
      "gradient of conv's input, i.e. the transposed convolution (Theano's "
      "conv2d_grad_wrt_inputs)",
      [](const ir::Apply& n) { return ConvType(n, n.inputs[1]->type.broadcastable[0], false); },
      ConvGradInputsGrad, GradInputsShape, "_gradInputs"));
  r.Add(ConvDef(
      "conv_grad_weights", 3,
      "conv_grad_weights(input, topgrad, filter_spatial_shape; same attributes as conv): the "
      "gradient of conv's filters (Theano's conv2d_grad_wrt_weights)",
      [](const ir::Apply& n) { return ConvType(n, n.inputs[1]->type.broadcastable[1], false); },
      ConvGradWeightsGrad, GradWeightsShape, "_gradWeights"));
}

}  // namespace tensord::ops
