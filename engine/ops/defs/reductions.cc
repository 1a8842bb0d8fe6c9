// Reductions over an axis list: sum, max.
#include <cmath>
#include <limits>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

enum class ReduceKind { kSum, kMax };

// The axes an apply reduces: attr `axis` (ints), absent meaning all of them.
absl::StatusOr<std::vector<int64_t>> ReducedAxes(const ir::Apply& node) {
  int ndim = node.inputs[0]->type.ndim();
  if (!node.attrs.count("axis")) {
    std::vector<int64_t> all(ndim);
    for (int i = 0; i < ndim; ++i) all[i] = i;
    return all;
  }
  TENSORD_ASSIGN_OR_RETURN(auto axes, ir::GetIntsAttr(node, "axis"));
  return NormalizeAxes(node, std::move(axes), ndim);
}

absl::StatusOr<std::vector<ir::Type>> InferReduce(const ir::Apply& node, ReduceKind kind) {
  TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
  const ir::Type& in = node.inputs[0]->type;
  ir::Type out;
  out.dtype = in.dtype;
  if (kind == ReduceKind::kSum) {
    out.dtype = SumResultType(in.dtype);
    if (node.attrs.count("dtype")) {
      TENSORD_ASSIGN_OR_RETURN(out.dtype, ir::GetAttr<DType>(node, "dtype"));
    }
  }
  for (int d = 0; d < in.ndim(); ++d)
    if (!std::binary_search(axes.begin(), axes.end(), d))
      out.broadcastable.push_back(in.broadcastable[d]);
  return std::vector<ir::Type>{out};
}

class ReduceKernel final : public Kernel {
 public:
  ReduceKernel(ReduceKind kind, std::vector<int64_t> axes) : kind_(kind), axes_(std::move(axes)) {}

  absl::Status Run(std::span<const runtime::Tensor* const> in,
                   std::span<runtime::Tensor* const> out) override {
    const runtime::Tensor& x = *in[0];
    runtime::Shape out_shape;
    std::vector<bool> reduced(x.ndim(), false);
    for (int64_t a : axes_) reduced[a] = true;
    for (int d = 0; d < x.ndim(); ++d)
      if (!reduced[d]) out_shape.push_back(x.shape()[d]);
    if (kind_ == ReduceKind::kMax && x.num_elements() == 0) {
      return InvalidArgument("max of an empty array (shape ", runtime::ShapeString(x.shape()),
                             ") has no identity");
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), out_shape));
    // Strides that map each input element to the output element it folds into.
    cpu::Strides out_strides(x.ndim(), 0);
    cpu::Strides contiguous = runtime::ContiguousStrides(out_shape);
    for (int d = 0, o = 0; d < x.ndim(); ++d)
      if (!reduced[d]) out_strides[d] = contiguous[o++];
    return cpu::DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* dst = out[0]->data<T>();
      const T* src = x.data<T>();
      const int64_t n = out[0]->num_elements();
      const T init = kind_ == ReduceKind::kSum ? T{} : Lowest<T>();
      for (int64_t i = 0; i < n; ++i) dst[i] = init;
      const int64_t inner = out_strides.empty() ? 0 : out_strides.back();
      const int64_t step = x.ndim() == 0 ? 0 : x.strides().back();
      cpu::ForEachRow(x.shape(), {out_strides, x.strides()},
                      [&](int64_t len, int64_t, const int64_t* o) {
                        T* acc = dst + o[0];
                        const T* s = src + o[1];
                        if (kind_ == ReduceKind::kSum) {
                          for (int64_t i = 0; i < len; ++i) {
                            acc[i * inner] = static_cast<T>(acc[i * inner] + s[i * step]);
                          }
                        } else {
                          for (int64_t i = 0; i < len; ++i) {
                            T& a = acc[i * inner];
                            const T v = s[i * step];
                            if ((v > a || IsNan(v)) && !IsNan(a)) a = v;  // NaN wins, as in NumPy
                          }
                        }
                      });
      return absl::OkStatus();
    });
  }

 private:
  template <typename T>
  static T Lowest() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    return std::numeric_limits<T>::lowest();
  }
  template <typename T>
  static bool IsNan(T v) {
    if constexpr (std::is_floating_point_v<T>) return std::isnan(v);
    return false;
  }

  ReduceKind kind_;
  std::vector<int64_t> axes_;
};

OpDef Reduction(std::string name, ReduceKind kind, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.doc = std::move(doc);
  d.infer_types = [kind](const ir::Apply& node) { return InferReduce(node, kind); };
  d.input_dtypes = AllInputsAsOutput;
  d.make_cpu_kernel = [kind](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto axes, ReducedAxes(node));
    return std::unique_ptr<Kernel>(new ReduceKernel(kind, std::move(axes)));
  };
  return d;
}

}  // namespace

void RegisterReductions(Registry& r) {
  r.Add(Reduction("sum", ReduceKind::kSum,
                  "sum(x; axis=None|ints, dtype) (numpy.sum; small ints accumulate in 64 bits)"));
  r.Add(Reduction("max", ReduceKind::kMax, "max(x; axis=None|ints) (numpy.max; NaN propagates)"));
}

}  // namespace tensord::ops
