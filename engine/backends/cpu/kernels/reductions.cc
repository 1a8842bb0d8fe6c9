// CPU kernels of the ops declared in engine/ops/defs/reductions.cc.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/fold_row.h"
#include "engine/backends/cpu/kernels/reduce_layout.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/reduce_util.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// The other folds, as SumFold (fold_row.h).
struct ProdFold {
  static constexpr bool kHasIdentity = true;
  static constexpr bool kWidenFloat32 = true;
  template <class T>
  static T Init() {
    return T{1};
  }
  template <class T>
  static T Fold(T a, T v) {
    if constexpr (std::is_same_v<T, bool>) {
      return a && v;  // unreachable: prod of bool computes in int64
    } else {
      return static_cast<T>(a * v);
    }
  }
};

// all/any read their input as bool (the compiler casts: nonzero and NaN are true, as in NumPy).
struct AllFold {
  static constexpr bool kHasIdentity = true;
  static constexpr bool kWidenFloat32 = false;
  template <class T>
  static T Init() {
    return T{1};
  }
  template <class T>
  static T Fold(T a, T v) {
    return static_cast<T>(a && v);
  }
};

struct AnyFold {
  static constexpr bool kHasIdentity = true;
  static constexpr bool kWidenFloat32 = false;
  template <class T>
  static T Init() {
    return T{0};
  }
  template <class T>
  static T Fold(T a, T v) {
    return static_cast<T>(a || v);
  }
};

template <typename Op>
class FoldReduceKernel final : public Kernel {
 public:
  FoldReduceKernel(std::string op, std::vector<int64_t> axes)
      : op_(std::move(op)), axes_(std::move(axes)) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    const ReduceLayout l = MakeReduceLayout(x.shape(), axes_);
    if constexpr (!Op::kHasIdentity)
      TENSORD_RETURN_IF_ERROR(CheckNonEmptyReduction(op_, x.shape(), l));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), l.out_shape));
    return DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      // float32 sums and products accumulate in float64 (as Theano does): adding 2^25 ones
      // one at a time in float32 stops at 2^24.
      using Acc = std::conditional_t<std::is_same_v<T, float> && Op::kWidenFloat32, double, T>;
      const int64_t n = out[0]->num_elements();
      T* dst = out[0]->data<T>();
      Acc* acc_base = reinterpret_cast<Acc*>(dst);
      static thread_local std::vector<double> wide;  // grows once per thread, then reused
      if constexpr (!std::is_same_v<Acc, T>) {
        wide.resize(n);
        acc_base = wide.data();
      }
      for (int64_t i = 0; i < n; ++i) acc_base[i] = Op::template Init<Acc>();
      FoldOver<Op, Acc, T>(x, l, acc_base);
      if constexpr (!std::is_same_v<Acc, T>) {
        for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<T>(acc_base[i]);
      }
      return absl::OkStatus();
    });
  }

 private:
  std::string op_;
  std::vector<int64_t> axes_;
};

}  // namespace

absl::Status SumOverAxes(const runtime::Tensor& x, std::vector<int64_t> axes,
                         runtime::Tensor& out) {
  FoldReduceKernel<SumFold> kernel("sum", std::move(axes));
  const runtime::Tensor* in[] = {&x};
  runtime::Tensor* outs[] = {&out};
  return kernel.Run(in, outs);
}

void RegisterReductionKernels(backends::KernelTable& k) {
  auto fold = [&]<typename Op>(Op, const char* op) {
    k.Add(op, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
      return std::unique_ptr<Kernel>(new FoldReduceKernel<Op>(node.op, std::move(axes)));
    });
  };
  fold(SumFold{}, "sum");
  fold(ProdFold{}, "prod");
  fold(MaxFold{}, "max");
  fold(MinFold{}, "min");
  fold(AllFold{}, "all");
  fold(AnyFold{}, "any");
}

}  // namespace tensord::cpu
