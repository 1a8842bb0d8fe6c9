// BroadcastMap: a broadcasting map over operands of different dtypes, for the kernels that
// have no scalar form (isclose with its tolerances); ops with one run the scalar-form loops
// (elementwise_kernel.h).
#pragma once

#include <array>
#include <span>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/backends/cpu/broadcast.h"

namespace tensord::cpu {

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

}  // namespace tensord::cpu
