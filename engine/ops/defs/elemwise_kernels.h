// Broadcasting map kernels whose operands do not all share the output's dtype (comparisons give
// bool, switch reads a bool condition) and the OpDef boilerplate of the elementwise families.
// The same-dtype unary/binary cases use cpu::UnaryKernel / cpu::FoldKernel instead.
#pragma once

#include <array>
#include <memory>
#include <tuple>
#include <utility>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/op_def.h"

namespace tensord::ops::elemwise {

using cpu::Shape;
using cpu::Strides;

template <typename Out, typename... In, size_t... I, typename F>
void MapRows(std::index_sequence<I...>, std::span<const runtime::Tensor* const> in,
             const std::vector<Strides>& strides, const Shape& shape, Out* dst, const F& f) {
  const std::tuple<const In*...> base{in[I]->template data<In>()...};
  const std::array<int64_t, sizeof...(In)> step{(strides[I].empty() ? 0 : strides[I].back())...};
  const bool unit = ((step[I] == 1) && ...);
  cpu::ForEachRow(shape, strides, [&](int64_t n, int64_t o, const int64_t* off) {
    Out* d = dst + o;
    if (unit) {  // the contiguous case, kept simple for vectorizers
      for (int64_t i = 0; i < n; ++i) d[i] = f(std::get<I>(base)[off[I] + i]...);
    } else {
      for (int64_t i = 0; i < n; ++i) d[i] = f(std::get<I>(base)[off[I] + i * step[I]]...);
    }
  });
}

// out = f(in[0], in[1], ...) over the NumPy broadcast of the inputs, which may be any strided
// views; operand k is read as In[k] and `out` becomes a C-contiguous `out_dtype` array.
template <typename Out, typename... In, typename F>
absl::Status BroadcastMap(std::span<const runtime::Tensor* const> in, DType out_dtype,
                          runtime::Tensor& out, const F& f) {
  std::vector<const Shape*> shapes;
  for (size_t k = 0; k < sizeof...(In); ++k) shapes.push_back(&in[k]->shape());
  TENSORD_ASSIGN_OR_RETURN(Shape shape, cpu::BroadcastShapes(shapes));
  TENSORD_RETURN_IF_ERROR(out.Reshape(out_dtype, shape));
  std::vector<Strides> strides;
  for (size_t k = 0; k < sizeof...(In); ++k)
    strides.push_back(cpu::BroadcastStrides(*in[k], shape));
  MapRows<Out, In...>(std::index_sequence_for<In...>{}, in, strides, shape, out.data<Out>(), f);
  return absl::OkStatus();
}

// Binary predicate over two inputs of one dtype (the compiler casts both to their promotion):
// Op has `template <class T> static bool Apply(T a, T b)`.
template <typename Op>
class CompareKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return cpu::DispatchAll(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return BroadcastMap<bool, T, T>(in, DType::kBool, *out[0],
                                      [](T a, T b) { return Op::template Apply<T>(a, b); });
    });
  }
};

// Unary predicate on an input of any dtype: Op has `template <class T> static bool Apply(T)`.
template <typename Op>
class PredicateKernel final : public Kernel {
 public:
  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    return cpu::DispatchAll(in[0]->dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      return BroadcastMap<bool, T>(in, DType::kBool, *out[0],
                                   [](T a) { return Op::template Apply<T>(a); });
    });
  }
};

// An elementwise OpDef: NumPy broadcasting, output dtype by `rule`, every input cast to the
// output dtype.
inline OpDef Elementwise(std::string name, int arity, std::string doc, ElemDTypeRule rule,
                         MakeKernelFn kernel) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = d.max_inputs = arity;
  d.doc = std::move(doc);
  d.infer_types = [rule](const ir::Apply& node) { return InferElementwise(node, rule); };
  d.input_dtypes = AllInputsAsOutput;
  d.make_cpu_kernel = std::move(kernel);
  return d;
}

// InferElementwise, then refuses outputs whose dtype the op is not defined for: `allowed`
// says which, `what` completes "needs ... inputs".
template <typename Allowed>
InferTypesFn InferRestricted(ElemDTypeRule rule, Allowed allowed, std::string what) {
  return [=](const ir::Apply& node) -> absl::StatusOr<std::vector<ir::Type>> {
    TENSORD_ASSIGN_OR_RETURN(auto types, InferElementwise(node, rule));
    if (!allowed(types[0].dtype)) {
      std::string got;
      for (const ir::Variable* v : node.inputs)
        absl::StrAppend(&got, got.empty() ? "" : ", ", DTypeName(v->type.dtype));
      return InvalidArgument("needs ", what, " inputs, got ", got);
    }
    return types;
  };
}

}  // namespace tensord::ops::elemwise
