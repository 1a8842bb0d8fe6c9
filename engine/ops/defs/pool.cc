// Declarations of pool, pool_grad and pool_grad_grad (see pool.h).
#include "engine/ops/defs/pool.h"

#include <algorithm>

#include "absl/strings/str_join.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/grads/pool.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

constexpr std::pair<const char*, PoolMode> kModes[] = {
    {"max", PoolMode::kMax},
    {"sum", PoolMode::kSum},
    {"average_inc_pad", PoolMode::kAverageIncPad},
    {"average_exc_pad", PoolMode::kAverageExcPad}};

const char* ModeName(PoolMode m) {
  for (const auto& [name, mode] : kModes)
    if (mode == m) return name;
  return "?";
}

}  // namespace

int64_t PoolAttrs::OutSize(int d, int64_t size) const {
  const int64_t padded = size + 2 * pad[d];
  if (ignore_border) return padded < ws[d] ? 0 : (padded - ws[d]) / stride[d] + 1;
  if (stride[d] >= ws[d]) return (padded + stride[d] - 1) / stride[d];
  return std::max<int64_t>(0, (padded - 1 - ws[d] + stride[d]) / stride[d]) + 1;
}

std::vector<PoolWindow> PoolWindows(const PoolAttrs& a, int d, int64_t size) {
  const int64_t padded = size + 2 * a.pad[d];
  std::vector<PoolWindow> windows;
  for (int64_t j = 0, n = a.OutSize(d, size); j < n; ++j) {
    const int64_t start = j * a.stride[d], end = std::min(start + a.ws[d], padded);
    windows.push_back({std::max(start, a.pad[d]) - a.pad[d],
                       std::min(end, padded - a.pad[d]) - a.pad[d], end - start});
  }
  return windows;
}

runtime::Shape PooledShapeOf(const PoolAttrs& a, const runtime::Shape& x) {
  runtime::Shape out = x;
  const int lead = static_cast<int>(x.size()) - a.nd;
  for (int d = 0; d < a.nd; ++d) out[lead + d] = a.OutSize(d, x[lead + d]);
  return out;
}

absl::Status CheckPoolGradient(const std::string& op, const PoolAttrs& a, const runtime::Shape& x,
                               const runtime::Shape& gradient) {
  const bool grad = op == "pool_grad";
  const runtime::Shape want = grad ? PooledShapeOf(a, x) : x;
  if (gradient == want) return absl::OkStatus();
  return InvalidArgument(op, ": the gradient has shape ", runtime::ShapeString(gradient), " but ",
                         grad ? "pooling " : "", "the input ", runtime::ShapeString(x),
                         grad ? " gives " : " is ", runtime::ShapeString(want));
}

absl::StatusOr<PoolAttrs> GetPoolAttrs(const ir::Apply& node) {
  PoolAttrs a;
  TENSORD_ASSIGN_OR_RETURN(a.ws, ir::GetIntsAttr(node, "ws"));
  TENSORD_ASSIGN_OR_RETURN(a.stride, ir::GetIntsAttr(node, "stride"));
  TENSORD_ASSIGN_OR_RETURN(a.pad, ir::GetIntsAttr(node, "pad"));
  TENSORD_ASSIGN_OR_RETURN(a.ignore_border, ir::GetAttr<bool>(node, "ignore_border"));
  TENSORD_ASSIGN_OR_RETURN(std::string mode, ir::GetAttr<std::string>(node, "mode"));
  auto m = std::find_if(std::begin(kModes), std::end(kModes),
                        [&](const auto& entry) { return mode == entry.first; });
  if (m == std::end(kModes)) {
    return InvalidArgument(node.op, ": mode must be 'max', 'sum', 'average_inc_pad' or ",
                           "'average_exc_pad', got '", mode.substr(0, 64), "'");
  }
  a.mode = m->second;
  a.nd = static_cast<int>(a.ws.size());
  if (a.nd < 1 || a.nd > 3) {
    return InvalidArgument(node.op, ": ws must give 1 to 3 window sizes, got ", a.nd);
  }
  if (node.inputs[0]->type.ndim() < a.nd) {
    return InvalidArgument(node.op, ": a window of ", a.nd, " dims needs an input of at least ",
                           a.nd, " dims, got ", ir::TypeString(node.inputs[0]->type));
  }
  for (auto [name, values, least] :
       {std::tuple{"ws", &a.ws, 1}, {"stride", &a.stride, 1}, {"pad", &a.pad, 0}}) {
    if (static_cast<int>(values->size()) != a.nd) {
      return InvalidArgument(node.op, ": ", name, " needs ", a.nd, " values (one per pooled ",
                             "dim), got ", values->size());
    }
    for (int64_t v : *values) {
      if (v < least || v > (int64_t{1} << 20)) {
        return InvalidArgument(node.op, ": ", name, " values must be in [", least, ", 2^20], got ",
                               v);
      }
    }
  }
  for (int d = 0; d < a.nd; ++d) {
    if (a.pad[d] > 0 && !a.ignore_border) {
      return InvalidArgument(node.op, ": padding works only with ignore_border=True");
    }
    if (a.pad[d] >= a.ws[d]) {
      return InvalidArgument(node.op, ": pad (", a.pad[d], ") must be smaller than the window (",
                             a.ws[d], ") on pooled dim ", d);
    }
  }
  return a;
}

namespace {

absl::StatusOr<std::vector<ir::Type>> InferPool(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(PoolAttrs a, GetPoolAttrs(node));
  const ir::Type& x = node.inputs[0]->type;
  if (x.dtype != DType::kFloat32 && x.dtype != DType::kFloat64) {
    return InvalidArgument(node.op, " needs a float32 or float64 input, got ", ir::TypeString(x));
  }
  for (size_t i = 1; i < node.inputs.size(); ++i) {
    const ir::Type& g = node.inputs[i]->type;
    if (g.ndim() != x.ndim()) {
      return InvalidArgument(node.op, ": the gradient has rank ", g.ndim(), ", the input ",
                             x.ndim());
    }
  }
  if (node.op == "pool_grad_grad" && a.mode != PoolMode::kMax) {
    return InvalidArgument("pool_grad_grad is max pooling's; the other modes' is pool itself");
  }
  // pool and pool_grad_grad give the pooled shape, pool_grad the input's.
  ir::Type out = x;
  if (node.op != "pool_grad") {
    for (int d = x.ndim() - a.nd; d < x.ndim(); ++d) out.broadcastable[d] = false;
  }
  return std::vector<ir::Type>{out};
}

std::vector<std::optional<DType>> AllAsInput0(const ir::Apply& node) {
  return std::vector<std::optional<DType>>(node.inputs.size(), node.inputs[0]->type.dtype);
}

// Theano's out_shape as int64 scalar nodes.
std::vector<SymbolicShape> PooledShape(NodeBuilder& b, const ir::Apply& node,
                                       std::span<const SymbolicShape> in) {
  absl::StatusOr<PoolAttrs> a = GetPoolAttrs(node);
  if (!a.ok()) return {};
  auto c = [&](int64_t v) { return b.Constant(static_cast<double>(v), DType::kInt64); };
  auto div = [&](ir::Variable* x, int64_t v) { return b.Apply("int_div", {x, c(v)}); };
  auto at_least_0 = [&](ir::Variable* x) { return b.Apply("maximum", {x, c(0)}); };
  SymbolicShape out = in[0];
  const int first = static_cast<int>(out.size()) - a->nd;
  for (int d = 0; d < a->nd; ++d) {
    ir::Variable* padded = b.Add(in[0][first + d], c(2 * a->pad[d]));
    const int64_t ws = a->ws[d], st = a->stride[d];
    if (a->ignore_border) {
      out[first + d] = at_least_0(b.Add(div(b.Sub(padded, c(ws)), st), c(1)));
    } else if (st >= ws) {
      out[first + d] = div(b.Add(padded, c(st - 1)), st);
    } else {
      out[first + d] = b.Add(at_least_0(div(b.Sub(padded, c(1 + ws - st)), st)), c(1));
    }
  }
  return {out};
}

// Theano's names; its gradient op is MaxPoolGrad or AveragePoolGrad by mode (`theano_name`
// null).
TheanoRenderFn PoolName(const char* theano_name) {
  return [theano_name](const ir::Apply& node, const std::string&) -> std::string {
    absl::StatusOr<PoolAttrs> a = GetPoolAttrs(node);
    const char* name = theano_name != nullptr                ? theano_name
                       : a.ok() && a->mode == PoolMode::kMax ? "MaxPoolGrad"
                                                             : "AveragePoolGrad";
    if (!a.ok()) return name;
    return absl::StrCat(name, "{ignore_border=", a->ignore_border ? "True" : "False", ", mode='",
                        ModeName(a->mode), "', ndim=", a->nd, "}");
  };
}

OpDef PoolDef(const char* name, int arity, const char* doc, GradFn grad, InferShapeFn shape,
              const char* theano_name) {
  OpDef d = MakeOpDef(name, arity, arity, doc, InferPool, std::move(grad));
  d.attrs = {"ws", "stride", "pad", "ignore_border", "mode"};
  d.input_dtypes = AllAsInput0;
  d.infer_shape = std::move(shape);
  d.theano_render = PoolName(theano_name);
  return d;
}

}  // namespace

void RegisterPool(Registry& r) {
  r.Add(PoolDef("pool", 1,
                "pool(x; ws, stride, pad, ignore_border, mode): max / sum / average over windows "
                "of the last len(ws) dims (Theano's pool_2d / pool_3d)",
                PoolGrad, PooledShape, "Pool"));
  r.Add(PoolDef("pool_grad", 2,
                "pool_grad(x, gz; same attributes as pool): x's gradient; max mode routes each "
                "window's gradient to its first maximum, as cuDNN and oneDNN do (Theano's "
                "MaxPoolGrad gives it to every element equal to the maximum)",
                PoolGradGrad, ShapeOfInput(0), nullptr));
  r.Add(PoolDef("pool_grad_grad", 2,
                "pool_grad_grad(x, ggx; same attributes as pool, mode max): ggx read at each "
                "window's first maximum, pool_grad's adjoint (Theano's "
                "DownsampleFactorMaxGradGrad)",
                PoolGradGradGrad, PooledShape, "DownsampleFactorMaxGradGrad"));
}

}  // namespace tensord::ops
