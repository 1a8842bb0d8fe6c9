// Tensor contractions: dot (every rank pair numpy.dot allows), tensordot, batched_dot and
// batched_tensordot share one kernel. Each operand is viewed as a batch of matrices (batch x
// free x summed for a, batch x summed x free for b) through strides where the layout allows it,
// so transposed views reach BLAS (OpenBLAS' sgemm/dgemm) with trans flags instead of copies.
// Integer dtypes, which BLAS lacks, use an i-k-j loop over the strided operands.
#include <cblas.h>

#include <cstring>
#include <numeric>

#include "engine/backends/cpu/blas_matrix.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/dispatch.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace {

using runtime::Shape;
using runtime::Strides;
using runtime::Tensor;

// Which axes of a and b are summed, and whether axis 0 of both is a batch axis.
struct Contraction {
  bool batched = false;
  std::vector<int64_t> axes_a, axes_b;  // normalized, paired in order
};

std::vector<int> FreeAxes(int ndim, bool batched, const std::vector<int64_t>& summed) {
  std::vector<int> free;
  for (int d = batched ? 1 : 0; d < ndim; ++d)
    if (std::find(summed.begin(), summed.end(), d) == summed.end()) free.push_back(d);
  return free;
}

// The contraction a node describes, checked against its input types.
absl::StatusOr<Contraction> GetContraction(const ir::Apply& node) {
  const int na = node.inputs[0]->type.ndim(), nb = node.inputs[1]->type.ndim();
  Contraction c;
  c.batched = node.op == "batched_dot" || node.op == "batched_tensordot";
  if (c.batched && (na < 2 || nb < 2)) {
    return InvalidArgument(node.op, " needs operands of rank >= 2 (axis 0 is the batch), got ",
                           ir::TypeString(node.inputs[0]->type), " and ",
                           ir::TypeString(node.inputs[1]->type));
  }
  if (node.op == "dot") {
    // numpy.dot: a's last axis with b's second-to-last (its only one for a vector); a 0-d
    // operand sums nothing, which makes the product elementwise.
    if (na > 0 && nb > 0) c.axes_a = {na - 1}, c.axes_b = {nb >= 2 ? nb - 2 : 0};
    return c;
  }
  if (node.op == "batched_dot") {
    c.axes_a = {na - 1};
    c.axes_b = {std::max(1, nb - 2)};
    return c;
  }
  TENSORD_ASSIGN_OR_RETURN(c.axes_a, ir::GetIntsAttr(node, "axes_a"));
  TENSORD_ASSIGN_OR_RETURN(c.axes_b, ir::GetIntsAttr(node, "axes_b"));
  if (c.axes_a.size() != c.axes_b.size()) {
    return InvalidArgument(node.op, ": axes_a and axes_b must have the same length, got ",
                           c.axes_a.size(), " and ", c.axes_b.size());
  }
  for (auto [axes, ndim] : {std::pair{&c.axes_a, na}, std::pair{&c.axes_b, nb}}) {
    std::vector<int64_t> seen;
    for (int64_t& a : *axes) {
      if (a < -ndim || a >= ndim) {
        return InvalidArgument(node.op, ": axis ", a, " is out of range for an operand of rank ",
                               ndim);
      }
      if (a < 0) a += ndim;
      if (c.batched && a == 0) return InvalidArgument(node.op, ": axis 0 is the batch axis");
      if (std::find(seen.begin(), seen.end(), a) != seen.end()) {
        return InvalidArgument(node.op, ": repeated axis ", a);
      }
      seen.push_back(a);
    }
  }
  return c;
}

absl::StatusOr<std::vector<ir::Type>> InferContraction(const ir::Apply& node) {
  const ir::Type& a = node.inputs[0]->type;
  const ir::Type& b = node.inputs[1]->type;
  TENSORD_ASSIGN_OR_RETURN(Contraction c, GetContraction(node));
  ir::Type out{Promote(a.dtype, b.dtype), {}};
  if (out.dtype == DType::kFloat16) return Unimplemented("float16 is not supported yet");
  // Theano's BatchedDot: the batch dim is broadcastable when either operand's is.
  if (c.batched) out.broadcastable.push_back(a.broadcastable[0] || b.broadcastable[0]);
  for (int d : FreeAxes(a.ndim(), c.batched, c.axes_a))
    out.broadcastable.push_back(a.broadcastable[d]);
  for (int d : FreeAxes(b.ndim(), c.batched, c.axes_b))
    out.broadcastable.push_back(b.broadcastable[d]);
  return std::vector<ir::Type>{out};
}

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
    view = cpu::Contiguous(view);
    merge(view);
  }
  return view.StridedView({sz[0], sz[1], sz[2]}, {st[0], st[1], st[2]}, 0);
}

using cpu::AsBlas;
using cpu::BlasMatrix;

template <typename T>
void Gemm(int64_t m, int64_t n, int64_t k, const BlasMatrix& a, const BlasMatrix& b, T* c) {
  const CBLAS_TRANSPOSE ta = a.transposed ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = b.transposed ? CblasTrans : CblasNoTrans;
  const int64_t ldc = std::max<int64_t>(n, 1);
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1.f, a.storage.data<float>(), a.ld,
                b.storage.data<float>(), b.ld, 0.f, c, ldc);
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, m, n, k, 1., a.storage.data<double>(), a.ld,
                b.storage.data<double>(), b.ld, 0., c, ldc);
  }
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
    for (size_t i = 0; i < c_.axes_a.size(); ++i) {
      if (a.shape()[c_.axes_a[i]] != b.shape()[c_.axes_b[i]]) {
        return InvalidArgument(op_, ": shapes ", runtime::ShapeString(a.shape()), " and ",
                               runtime::ShapeString(b.shape()),
                               " not aligned: ", a.shape()[c_.axes_a[i]], " (dim ", c_.axes_a[i],
                               ") != ", b.shape()[c_.axes_b[i]], " (dim ", c_.axes_b[i], ")");
      }
    }
    if (c_.batched && a.shape()[0] != b.shape()[0]) {
      return InvalidArgument(op_, ": batch sizes differ: ", a.shape()[0], " and ", b.shape()[0]);
    }
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
    return cpu::DispatchAll(a.dtype(), [&](auto tag) -> absl::Status {
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
          Gemm<T>(m, n, k, AsBlas(ai), AsBlas(bi), c + i * m * n);
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

OpDef ContractionDef(std::string name, std::string doc) {
  OpDef d;
  d.name = std::move(name);
  d.min_inputs = d.max_inputs = 2;
  d.doc = std::move(doc);
  d.infer_types = InferContraction;
  d.input_dtypes = AllInputsAsOutput;
  d.make_cpu_kernel = [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(Contraction c, GetContraction(node));
    return std::unique_ptr<Kernel>(new ContractKernel(node.op, std::move(c)));
  };
  return d;
}

}  // namespace

void RegisterLinalg(Registry& r) {
  r.Add(ContractionDef("dot",
                       "dot(a, b): sum over a's last axis and b's second-to-last; a 0-d operand "
                       "multiplies (numpy.dot)"));
  r.Add(ContractionDef("tensordot",
                       "tensordot(a, b; axes_a, axes_b): sum over the paired axes "
                       "(numpy.tensordot(a, b, (axes_a, axes_b)))"));
  r.Add(ContractionDef("batched_dot",
                       "batched_dot(a, b): axis 0 is the batch; dot of a's last axis with b's "
                       "max(1, ndim-2) (numpy.einsum('bij,bjk->bik'))"));
  r.Add(ContractionDef("batched_tensordot",
                       "batched_tensordot(a, b; axes_a, axes_b): tensordot per batch item along "
                       "axis 0 (numpy.stack([numpy.tensordot(x, y, axes) ...]))"));
}

}  // namespace tensord::ops
