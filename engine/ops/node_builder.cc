#include "engine/ops/node_builder.h"

#include <algorithm>

#include "engine/common/dtype_dispatch.h"
#include "engine/ops/op_def.h"

namespace tensord::ops {

bool NodeBuilder::Failed(const std::vector<ir::Variable*>& inputs) {
  if (!status_.ok()) return true;
  return std::any_of(inputs.begin(), inputs.end(), [](auto* v) { return v == nullptr; });
}

ir::Variable* NodeBuilder::Fail(absl::Status error) {
  if (status_.ok()) status_ = std::move(error);
  return nullptr;
}

std::vector<ir::Variable*> NodeBuilder::ApplyMulti(const std::string& op,
                                                   std::vector<ir::Variable*> inputs,
                                                   ir::Attrs attrs, Bodies bodies) {
  if (Failed(inputs)) {
    if (status_.ok()) status_ = Internal("gradient rule passed a null input to '", op, "'");
    return {};
  }
  ir::Apply probe{op, std::move(attrs), std::move(inputs), {}, nullptr, std::move(bodies)};
  std::vector<ir::Type> types;
  absl::Status st = ResolveAndInfer(probe, &types);
  if (!st.ok()) {
    status_ = Internal("building a gradient: ", st.message());
    return {};
  }
  ir::Apply* node = graph_.AddApply(op, std::move(probe.attrs), std::move(probe.inputs), types,
                                    std::move(probe.bodies));
  node->def = probe.def;
  return node->outputs;
}

ir::Variable* NodeBuilder::Apply(const std::string& op, std::vector<ir::Variable*> inputs,
                                 ir::Attrs attrs) {
  std::vector<ir::Variable*> outs = ApplyMulti(op, std::move(inputs), std::move(attrs));
  return outs.empty() ? nullptr : outs[0];
}

ir::Variable* NodeBuilder::Constant(double value, DType dtype) {
  runtime::Tensor t(dtype, {});
  absl::Status st = DispatchAll(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *t.data<T>() = static_cast<T>(value);
    return absl::OkStatus();
  });
  if (!st.ok()) {
    status_ = Internal("gradient constant: ", st.message());
    return nullptr;
  }
  return graph_.AddConstant(std::move(t), ir::Type::Scalar(dtype));
}

ir::Variable* NodeBuilder::ConstantLike(double value, const ir::Variable* x) {
  if (x == nullptr) return nullptr;
  return Constant(value, IsFloat(x->type.dtype) ? x->type.dtype : DType::kFloat64);
}

ir::Attrs NodeBuilder::DeclaredAttrs(const ir::Apply& node) {
  ir::Attrs attrs;
  if (node.def == nullptr) return attrs;
  for (const std::string& key : node.def->attrs)
    if (auto it = node.attrs.find(key); it != node.attrs.end()) attrs.insert(*it);
  return attrs;
}

ir::Variable* NodeBuilder::IntVector(const std::vector<int64_t>& values) {
  runtime::Tensor t(DType::kInt64, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<int64_t>());
  return graph_.AddConstant(std::move(t), ir::Type::Of(DType::kInt64, 1));
}

ir::Variable* NodeBuilder::Cast(ir::Variable* x, DType dtype) {
  if (x == nullptr || x->type.dtype == dtype) return x;
  return Apply("cast", {x}, {{"dtype", dtype}});
}

ir::Variable* NodeBuilder::ZerosLike(ir::Variable* x, DType float_dtype) {
  if (x == nullptr) return nullptr;
  DType d = IsFloat(x->type.dtype) ? x->type.dtype : float_dtype;
  return Fill(x, Constant(0, d));
}

ir::Variable* NodeBuilder::OnesLike(ir::Variable* x, DType float_dtype) {
  if (x == nullptr) return nullptr;
  DType d = IsFloat(x->type.dtype) ? x->type.dtype : float_dtype;
  return Fill(x, Constant(1, d));
}

ir::Variable* NodeBuilder::SumToLike(ir::Variable* g, ir::Variable* x) {
  if (g == nullptr || x == nullptr) return nullptr;
  if (g->type.ndim() == 0 && x->type.ndim() == 0) return g;
  return Apply("sum_to_like", {g, x});
}

std::vector<ir::Variable*> NodeBuilder::SumToInputs(const ir::Apply& node,
                                                    std::vector<ir::Variable*> grads) {
  for (size_t i = 0; i < grads.size() && i < node.inputs.size(); ++i)
    if (grads[i] != nullptr) grads[i] = SumToLike(grads[i], node.inputs[i]);
  return grads;
}

ir::Variable* NodeBuilder::Sum(ir::Variable* x, const std::vector<int64_t>& axes) {
  if (x == nullptr) return nullptr;
  if (axes.empty()) return x;
  return Apply("sum", {x}, {{"axis", axes}});
}

ir::Variable* NodeBuilder::Dimshuffle(ir::Variable* x, const std::vector<int64_t>& new_order) {
  return Apply("dimshuffle", {x}, {{"new_order", new_order}});
}

ir::Variable* NodeBuilder::ShapeI(ir::Variable* x, int64_t i) {
  return Apply("shape_i", {x}, {{"i", i}});
}

ir::Variable* NodeBuilder::ExpandDims(ir::Variable* x, const std::vector<int64_t>& axes,
                                      int out_ndim) {
  if (x == nullptr) return nullptr;
  std::vector<int64_t> order;
  int64_t next = 0;
  for (int d = 0; d < out_ndim; ++d) {
    bool inserted = std::find(axes.begin(), axes.end(), d) != axes.end();
    order.push_back(inserted ? -1 : next++);
  }
  return Dimshuffle(x, order);
}

}  // namespace tensord::ops
