// CPU kernels of the ops declared in engine/ops/defs/reductions_arg.cc.
#include <cmath>
#include <limits>
#include <memory>

#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// The value every candidate beats or ties: an all-(-inf) row keeps index 0, its first element.
template <typename T>
T Worst(bool is_max) {
  if constexpr (std::numeric_limits<T>::has_infinity) {
    return is_max ? -std::numeric_limits<T>::infinity() : std::numeric_limits<T>::infinity();
  } else {
    return is_max ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max();
  }
}

// Per-thread scratch that grows and is then reused (std::vector<bool> has no data()).
template <typename T>
T* Scratch(int64_t n) {
  thread_local std::unique_ptr<T[]> buffer;
  thread_local int64_t capacity = 0;
  if (n > capacity) {
    buffer.reset(new T[n]);
    capacity = n;
  }
  return buffer.get();
}

class ArgReduceKernel final : public Kernel {
 public:
  ArgReduceKernel(std::string op, bool is_max, bool with_value, std::vector<int64_t> axes)
      : op_(std::move(op)), is_max_(is_max), with_value_(with_value), axes_(std::move(axes)) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    const ReduceLayout l = MakeReduceLayout(x.shape(), axes_);
    TENSORD_RETURN_IF_ERROR(CheckNonEmptyReduction(op_, x.shape(), l));
    runtime::Tensor* index_out = out[with_value_ ? 1 : 0];
    TENSORD_RETURN_IF_ERROR(index_out->Reshape(DType::kInt64, l.out_shape));
    if (with_value_) TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), l.out_shape));
    return DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const int64_t n_out = index_out->num_elements();
      // argmax alone still tracks the best values; per-thread scratch because kernels are
      // shared by concurrent runs.
      T* best = with_value_ ? out[0]->data<T>() : Scratch<T>(n_out);
      int64_t* best_index = index_out->data<int64_t>();
      const T worst = Worst<T>(is_max_);
      for (int64_t i = 0; i < n_out; ++i) {
        best[i] = worst;
        best_index[i] = 0;
      }
      const T* src = x.data<T>();
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      const int64_t inner = l.out_strides.empty() ? 0 : l.out_strides.back();
      const int64_t index_step =
          l.reduced_index_strides.empty() ? 0 : l.reduced_index_strides.back();
      const bool is_max = is_max_;
      ForEachRow(x.shape(), {l.out_strides, x.strides(), l.reduced_index_strides},
                 [&](int64_t len, int64_t, const int64_t* o) {
                   const T* s = src + o[1];
                   for (int64_t i = 0; i < len; ++i) {
                     const int64_t k = o[0] + i * inner;
                     const T v = s[i * step];
                     const T b = best[k];
                     // Strict comparison keeps the first of equal values; the first NaN
                     // wins and is never replaced.
                     const bool better = is_max ? v > b : v < b;
                     if ((better || IsNan(v)) && !IsNan(b)) {
                       best[k] = v;
                       best_index[k] = o[2] + i * index_step;
                     }
                   }
                 });
      return absl::OkStatus();
    });
  }

 private:
  std::string op_;
  bool is_max_;
  bool with_value_;
  std::vector<int64_t> axes_;
};

}  // namespace

void RegisterArgReductionKernels(backends::KernelTable& k) {
  auto arg = [&](const char* op, bool is_max, bool with_value) {
    k.Add(op, [=](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
      return std::unique_ptr<Kernel>(
          new ArgReduceKernel(node.op, is_max, with_value, std::move(axes)));
    });
  };
  arg("argmax", true, false);
  arg("argmin", false, false);
  arg("max_and_argmax", true, true);
}

}  // namespace tensord::cpu
