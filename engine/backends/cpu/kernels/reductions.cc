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
      const T* src = x.data<T>();
      const int64_t inner = l.out_strides.empty() ? 0 : l.out_strides.back();
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      // One innermost row of `len` input elements from src + from, folding into acc_base + to.
      auto fold_row = [&](int64_t len, int64_t to, int64_t from) {
        Acc* acc = acc_base + to;
        const T* s = src + from;
        if (inner == 0 && step == 1) {  // a contiguous row into one output
          *acc = FoldLongRow<Op>(*acc, s, len);
        } else if (inner == 1 && step == 1) {  // a contiguous row into a row of outputs
          FoldInto<Op>(acc, s, len);
        } else if (inner == 0) {
          Acc a = *acc;
          for (int64_t i = 0; i < len; ++i) a = Op::Fold(a, static_cast<Acc>(s[i * step]));
          *acc = a;
        } else {
          for (int64_t i = 0; i < len; ++i) {
            acc[i * inner] = Op::Fold(acc[i * inner], static_cast<Acc>(s[i * step]));
          }
        }
      };
      if (n == 1 && x.is_contiguous()) {
        // Everything into one output (a full reduction of contiguous data): one long row.
        acc_base[0] = FoldLongRow<Op>(acc_base[0], src, x.num_elements());
      } else if (!FoldLeadingAxes(
                     x, l, [&](int64_t len, int64_t to, int64_t from, int rows, int64_t stride) {
                       FoldRowsInto<Op>(acc_base + to, src + from, stride, rows, len);
                     })) {
        ForEachReducedRow(x, l, fold_row);
      }
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
