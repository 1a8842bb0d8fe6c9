// CPU kernels of the ops declared in engine/ops/defs/join_sort.cc.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;            // NOLINT: the ops these kernels run
using namespace ::tensord::ops::creation;  // NOLINT

class JoinKernel final : public Kernel {
 public:
  explicit JoinKernel(int64_t axis) : axis_(axis) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(Shape shape, JoinedShape(in, axis_));
    const DType dtype = in[0]->dtype();
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(dtype, shape));
    int64_t outer = 1, inner = 1;
    for (int64_t d = 0; d < axis_; ++d) outer *= shape[d];
    for (size_t d = axis_ + 1; d < shape.size(); ++d) inner *= shape[d];
    const size_t elem = DTypeSize(dtype);
    const size_t out_row = shape[axis_] * inner * elem;
    char* dst = static_cast<char*>(out[0]->raw());
    // Each input fills a column block of every outer row of the output.
    for (const Tensor* t : in) {
      const Tensor x = Contiguous(*t);
      const size_t row = x.shape()[axis_] * inner * elem;
      const char* src = static_cast<const char*>(x.raw());
      for (int64_t o = 0; o < outer && row > 0; ++o) {
        std::memcpy(dst + o * out_row, src + o * row, row);
      }
      dst += row;
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_;
};

// NumPy's order: NaN sorts after everything, including +inf.
template <typename T>
bool Less(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    return a < b || (std::isnan(b) && !std::isnan(a));
  } else {
    return a < b;
  }
}

class SortKernel final : public Kernel {
 public:
  SortKernel(int64_t axis, bool indices) : axis_(axis), indices_(indices) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(indices_ ? DType::kInt64 : x.dtype(), x.shape()));
    // Nothing to sort; the axis may still be huge when another dim is 0 (no scratch for it).
    if (x.num_elements() == 0) return absl::OkStatus();
    // One call per lane: the lanes' start offsets come from walking x's shape with the sorted
    // axis collapsed to length 1.
    Shape lanes = x.shape();
    const int64_t n = lanes[axis_];
    lanes[axis_] = 1;
    const Strides out_strides = runtime::ContiguousStrides(x.shape());
    const int64_t x_step = x.strides()[axis_];
    const int64_t out_step = out_strides[axis_];
    return DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      std::vector<int64_t> order(n);
      const int64_t x_inner = x.strides().back();
      const int64_t out_inner = out_strides.back();
      ForEachRow(lanes, {x.strides(), out_strides}, [&](int64_t len, int64_t, const int64_t* off) {
        for (int64_t r = 0; r < len; ++r) {
          const T* lane = src + off[0] + r * x_inner;
          std::iota(order.begin(), order.end(), int64_t{0});
          std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
            return Less(lane[a * x_step], lane[b * x_step]);
          });
          Write<T>(lane, x_step, order, off[1] + r * out_inner, out_step, *out[0]);
        }
      });
      return absl::OkStatus();
    });
  }

 private:
  template <typename T>
  void Write(const T* lane, int64_t x_step, const std::vector<int64_t>& order, int64_t out_offset,
             int64_t out_step, Tensor& out) const {
    if (indices_) {
      int64_t* dst = out.data<int64_t>() + out_offset;
      for (size_t i = 0; i < order.size(); ++i) dst[i * out_step] = order[i];
    } else {
      T* dst = out.data<T>() + out_offset;
      for (size_t i = 0; i < order.size(); ++i) dst[i * out_step] = lane[order[i] * x_step];
    }
  }

  int64_t axis_;
  bool indices_;
};

MakeKernelFn SortKernelFn(bool indices) {
  return [indices](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(int64_t axis, Axis(node));
    return std::unique_ptr<Kernel>(new SortKernel(axis, indices));
  };
}

}  // namespace

void RegisterJoinSortKernels(backends::KernelTable& k) {
  k.Add("join", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(int64_t axis, Axis(node));
    return std::unique_ptr<Kernel>(new JoinKernel(axis));
  });
  k.Add("sort", SortKernelFn(false));
  k.Add("argsort", SortKernelFn(true));
}

}  // namespace tensord::cpu
