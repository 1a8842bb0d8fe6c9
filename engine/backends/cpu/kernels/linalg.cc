// CPU kernels of the ops declared in engine/ops/defs/linalg.cc.
#include "engine/ops/defs/linalg.h"

#include <cstring>
#include <numeric>

#include "engine/backends/cpu/blas_matrix.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// Merges dims [begin, end) of a view into one (size, stride) when their strides allow it.
bool MergeDims(const Shape& shape, const Strides& strides, int begin, int end, int64_t* size,
               int64_t* stride) {
  *size = 1;
  *stride = 1;
  bool have_stride = false;
  for (int d = end - 1; d >= begin; --d) {
    if (shape[d] == 0) {
      *size = 0;
      return true;
    }
    if (shape[d] == 1) continue;
    if (!have_stride) {
      *stride = strides[d];
      have_stride = true;
    } else if (strides[d] != *stride * *size) {
      return false;
    }
    *size *= shape[d];
  }
  return true;
}

// `x` with its axes permuted to `perm` and grouped into three dims of `split` lengths: a
// strided view when possible, else a contiguous copy of the permuted view.
Tensor As3D(const Tensor& x, const std::vector<int>& perm, int n0, int n1) {
  Shape shape;
  Strides strides;
  for (int p : perm) shape.push_back(x.shape()[p]), strides.push_back(x.strides()[p]);
  Tensor view = x.StridedView(shape, strides, 0);
  const int n = static_cast<int>(perm.size());
  int64_t sz[3], st[3];
  auto merge = [&](const Tensor& t) {
    return MergeDims(t.shape(), t.strides(), 0, n0, &sz[0], &st[0]) &&
           MergeDims(t.shape(), t.strides(), n0, n0 + n1, &sz[1], &st[1]) &&
           MergeDims(t.shape(), t.strides(), n0 + n1, n, &sz[2], &st[2]);
  };
  if (!merge(view)) {
    view = Contiguous(view);
    merge(view);
  }
  return view.StridedView({sz[0], sz[1], sz[2]}, {st[0], st[1], st[2]}, 0);
}

// Integer dtypes have no BLAS: an i-k-j loop reading the operands through their strides.
template <typename T>
void IntegerGemm(const Tensor& a, const Tensor& b, T* c) {
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.shape()[1];
  const int64_t sam = a.strides()[0], sak = a.strides()[1];
  const int64_t sbk = b.strides()[0], sbn = b.strides()[1];
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  for (int64_t i = 0; i < m * n; ++i) c[i] = T{};
  for (int64_t i = 0; i < m; ++i)
    for (int64_t p = 0; p < k; ++p) {
      const T aip = pa[i * sam + p * sak];
      for (int64_t j = 0; j < n; ++j)
        c[i * n + j] = static_cast<T>(c[i * n + j] + aip * pb[p * sbk + j * sbn]);
    }
}

class ContractKernel final : public Kernel {
 public:
  ContractKernel(std::string op, Contraction c) : op_(std::move(op)), c_(std::move(c)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& a = *in[0];
    const Tensor& b = *in[1];
    TENSORD_RETURN_IF_ERROR(CheckContractionShapes(op_, c_, a.shape(), b.shape()));
    const std::vector<int> free_a = FreeAxes(a.ndim(), c_.batched, c_.axes_a);
    const std::vector<int> free_b = FreeAxes(b.ndim(), c_.batched, c_.axes_b);
    const int nbatch = c_.batched ? 1 : 0;
    const int nsum = static_cast<int>(c_.axes_a.size());
    std::vector<int> perm_a, perm_b;
    Shape shape;
    if (c_.batched) perm_a.push_back(0), perm_b.push_back(0), shape.push_back(a.shape()[0]);
    for (int d : free_a) perm_a.push_back(d), shape.push_back(a.shape()[d]);
    for (int d : free_b) shape.push_back(b.shape()[d]);
    for (int64_t d : c_.axes_a) perm_a.push_back(static_cast<int>(d));
    for (int64_t d : c_.axes_b) perm_b.push_back(static_cast<int>(d));
    for (int d : free_b) perm_b.push_back(d);
    // a as (batch, m, k), b as (batch, k, n).
    const Tensor a3 = As3D(a, perm_a, nbatch, static_cast<int>(free_a.size()));
    const Tensor b3 = As3D(b, perm_b, nbatch, nsum);
    const int64_t batches = a3.shape()[0], m = a3.shape()[1], k = a3.shape()[2];
    const int64_t n = b3.shape()[2];
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(a.dtype(), shape));
    return DispatchAll(a.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      T* c = out[0]->data<T>();
      if (k == 0 || m == 0 || n == 0 || batches == 0) {
        std::memset(static_cast<void*>(c), 0, out[0]->num_bytes());
        return absl::OkStatus();
      }
      for (int64_t i = 0; i < batches; ++i) {
        Tensor ai = a3.StridedView({m, k}, {a3.strides()[1], a3.strides()[2]}, i * a3.strides()[0]);
        Tensor bi = b3.StridedView({k, n}, {b3.strides()[1], b3.strides()[2]}, i * b3.strides()[0]);
        if constexpr (std::is_floating_point_v<T>) {
          Gemm<T>(AsBlas(ai), AsBlas(bi), m, n, k, T(1), T(0), c + i * m * n);
        } else {
          IntegerGemm<T>(ai, bi, c + i * m * n);
        }
      }
      return absl::OkStatus();
    });
  }

 private:
  std::string op_;
  Contraction c_;
};

}  // namespace

void RegisterLinalgKernels(backends::KernelTable& k) {
  auto contraction = [&](const char* op) {
    k.Add(op, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
      TENSORD_ASSIGN_OR_RETURN(Contraction c, GetContraction(node));
      return std::unique_ptr<Kernel>(new ContractKernel(node.op, std::move(c)));
    });
  };
  for (const char* op : {"dot", "tensordot", "batched_dot", "batched_tensordot"}) contraction(op);
}

}  // namespace tensord::cpu
