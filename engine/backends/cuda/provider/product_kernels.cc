#include "engine/backends/cuda/provider/product_kernels.h"

#include <algorithm>
#include <optional>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cuda/blas.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/linalg.h"

namespace tensord::cuda {
namespace {

using ops::composite::Program;
using runtime::Tensor;

// A 2-d operand as cuBLAS reads it: row-major (unit column stride) or a transposed view of a
// row-major matrix (unit row stride), with its leading dimension; UNIMPLEMENTED for any other
// strides (a view no kernel here makes).
struct BlasOperand {
  const void* data;
  int64_t ld;
  bool transposed;
};
absl::StatusOr<BlasOperand> AsBlasOperand(const Tensor& t, int which) {
  const int64_t rows = t.shape()[0], cols = t.shape()[1];
  const int64_t row_stride = t.strides()[0], col_stride = t.strides()[1];
  if ((cols <= 1 || col_stride == 1) && (rows <= 1 || row_stride >= cols)) {
    return BlasOperand{t.raw(), std::max<int64_t>(1, rows <= 1 ? cols : row_stride), false};
  }
  if ((rows <= 1 || row_stride == 1) && (cols <= 1 || col_stride >= rows)) {
    return BlasOperand{t.raw(), std::max<int64_t>(1, cols <= 1 ? rows : col_stride), true};
  }
  return Unimplemented("operand ", which, " of a product is a strided view cuBLAS cannot read");
}

Tensor Transposed(const Tensor& t) {
  return t.StridedView({t.shape()[1], t.shape()[0]}, {t.strides()[1], t.strides()[0]}, 0);
}

// c (m x n, a buffer on the device) = alpha * x y + beta * c, by cuBLAS.
absl::Status MultiplyInto(DeviceRuntime& device, const Tensor& x, const Tensor& y, double alpha,
                          double beta, Tensor& c) {
  if (x.host_accessible() || y.host_accessible()) {
    return Internal("an operand of a CUDA product is in host memory");
  }
  TENSORD_ASSIGN_OR_RETURN(BlasOperand a, AsBlasOperand(x, 0));
  TENSORD_ASSIGN_OR_RETURN(BlasOperand b, AsBlasOperand(y, 1));
  const int64_t m = x.shape()[0], k = x.shape()[1], n = y.shape()[1];
  if (c.num_elements() > 0 && c.host_accessible()) {
    return Internal("the output of a CUDA product is in host memory");
  }
  return device.Gemm(x.dtype(), a.transposed, b.transposed, m, n, k, alpha, a.data, a.ld, b.data,
                     b.ld, beta, c.raw(), GemmBatch{});
}

// A 0-d value on the device, read on the host (a synchronous copy: the stream drains).
absl::StatusOr<double> ScalarOf(const Tensor& t) {
  TENSORD_ASSIGN_OR_RETURN(Tensor host, runtime::OnHost(t));
  return host.dtype() == DType::kFloat32 ? double{*host.data<float>()} : *host.data<double>();
}

// A contraction whose summed dims are a block at one end of each operand, in the same order
// (dot's last of x and first of y; a tensordot over x's leading and y's leading dims, say):
// the product of two matrices once each operand is contiguous.
struct ContractedBlocks {
  std::vector<int64_t> axes_x, axes_y;
  bool x_leads = false, y_leads = false;  // the summed dims are the first ones
};
std::optional<ContractedBlocks> ContractionOf(const ir::Apply& node) {
  if (node.op != "dot" && node.op != "tensordot") return std::nullopt;
  absl::StatusOr<ops::Contraction> c = ops::GetContraction(node);
  if (!c.ok() || c->batched) return std::nullopt;
  // Over no axes: an outer product, x as one column times y as one row.
  if (c->axes_a.empty()) return ContractedBlocks{{}, {}, false, true};
  ContractedBlocks b{c->axes_a, c->axes_b};
  // Ascending and consecutive, from dim 0 or up to the last dim.
  auto block = [](const std::vector<int64_t>& axes, int ndim, bool* leads) {
    for (size_t i = 1; i < axes.size(); ++i) {
      if (axes[i] != axes[i - 1] + 1) return false;
    }
    *leads = axes.front() == 0;
    return *leads || axes.back() == ndim - 1;
  };
  if (!block(b.axes_x, node.inputs[0]->type.ndim(), &b.x_leads) ||
      !block(b.axes_y, node.inputs[1]->type.ndim(), &b.y_leads)) {
    return std::nullopt;
  }
  return b;
}

// The product family on cuBLAS: dot, tensordot of matrices over one axis each (a product of
// transposed views), gemm (z scaled by beta on the device, then alpha * x y added) and
// dot_composite (the product, then its program over it and the other inputs).
class ProductKernel final : public backends::Kernel {
 public:
  ProductKernel(const ir::Apply& node, std::shared_ptr<DeviceRuntime> device,
                std::optional<DeviceElementwise> epilogue)
      : op_(node.op),
        device_(std::move(device)),
        pack_(node.inputs[0]->type.dtype, node.inputs[0]->type.dtype, false) {
    const ir::Type& x = node.inputs[0]->type;
    const ir::Type& y = node.inputs[1]->type;
    std::optional<ContractedBlocks> blocks = ContractionOf(node);
    if (blocks && (x.ndim() != 2 || y.ndim() != 2 || blocks->axes_x.size() != 1)) {
      blocks_ = std::move(blocks);
    } else if (op_ == "tensordot") {  // x contracted over its axis 1 and y over its axis 0 as is
      auto axis = [&](const char* name) {
        const int64_t a = ir::GetIntsAttr(node, name).value_or(std::vector<int64_t>{0})[0];
        return a < 0 ? a + 2 : a;
      };
      transpose_x_ = axis("axes_a") == 0;
      transpose_y_ = axis("axes_b") == 1;
    }
    if (op_ == "dot" || op_ == "tensordot") {
      if (absl::StatusOr<ops::Contraction> c = ops::GetContraction(node); c.ok()) {
        contraction_ = *std::move(c);
      }
    }
    if (epilogue) epilogue_ = MakeElementwiseKernel(*std::move(epilogue), device_);
    if (op_ == "gemm") {
      const DType dtype = node.outputs[0]->type.dtype;
      scale_ = MakeElementwiseKernel(DeviceElementwise{ScaleProgram(dtype, false), {}}, device_);
      scale_empty_ =
          MakeElementwiseKernel(DeviceElementwise{ScaleProgram(dtype, true), {}}, device_);
    }
  }

  // gemm's first step over c's shape (input 0, read for its shape only): beta * z (inputs 1, 2),
  // and for an empty sum (k == 0) + alpha * 0 (input 3), as the host computes it: NaN for an
  // infinite alpha, +0 for -0.
  static Program ScaleProgram(DType dtype, bool empty_sum) {
    using ops::composite::Instr;
    using ops::composite::Opcode;
    Program p;
    p.dtype = dtype;
    p.num_inputs = empty_sum ? 4 : 3;
    p.input_read = {false, true, true};
    p.code = {Instr{Opcode("mul"), {1, 2, -1}}};  // register num_inputs
    if (empty_sum) {
      p.input_read.push_back(true);
      p.constants = {0.0};
      p.code.push_back(Instr{ops::composite::kConst, {0, -1, -1}});  // 5
      p.code.push_back(Instr{Opcode("mul"), {3, 5, -1}});            // 6
      p.code.push_back(Instr{Opcode("add"), {4, 6, -1}});
    }
    return p;
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (blocks_.has_value()) return RunContraction(*in[0], *in[1], *out[0]);
    const bool gemm = op_ == "gemm";
    const Tensor& x0 = gemm ? *in[2] : *in[0];
    const Tensor& y0 = gemm ? *in[3] : *in[1];
    if (contraction_.has_value()) {  // the host's words, of the operands as given
      TENSORD_RETURN_IF_ERROR(
          ops::CheckContractionShapes(op_, *contraction_, x0.shape(), y0.shape()));
    }
    const Tensor x = transpose_x_ ? Transposed(x0) : x0;
    const Tensor y = transpose_y_ ? Transposed(y0) : y0;
    if (x.shape()[1] != y.shape()[0]) {  // gemm's and dot_composite's
      return InvalidArgument(op_, ": shapes ", runtime::ShapeString(x.shape()), " and ",
                             runtime::ShapeString(y.shape()), " not aligned: ", x.shape()[1],
                             " (dim 1) != ", y.shape()[0], " (dim 0)");
    }
    const runtime::Shape shape{x.shape()[0], y.shape()[1]};
    if (op_ == "dot" || op_ == "tensordot") {
      TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
      return MultiplyInto(*device_, x, y, 1.0, 0.0, *out[0]);
    }
    // The other inputs must keep the product's shape, as the host's kernels require for
    // dot_composite; a gemm's z broadcasting it to a larger one is the host's alone.
    absl::InlinedVector<const runtime::Shape*, 8> shapes = {&shape};
    for (size_t k = gemm ? 0 : 2; k < (gemm ? 1 : in.size()); ++k)
      shapes.push_back(&in[k]->shape());
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape joint, cpu::BroadcastShapes(shapes));
    if (joint != shape) {
      const std::string why =
          absl::StrCat(op_, ": its inputs broadcast the product (", runtime::ShapeString(shape),
                       ") to ", runtime::ShapeString(joint));
      return gemm ? absl::UnimplementedError(why) : absl::InvalidArgumentError(why);
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor c, Tensor::Allocate(x.dtype(), shape));
    if (gemm) {
      // c = beta * z first, broadcast as the host's gemm does (inf and NaN times 0 stay NaN).
      const bool empty_sum = x.shape()[1] == 0;
      const Tensor* scale_in[] = {&c, in[0], in[4], in[1]};
      Tensor* scale_out[] = {&c};
      TENSORD_RETURN_IF_ERROR((empty_sum ? scale_empty_ : scale_)
                                  ->Run(std::span(scale_in, empty_sum ? 4 : 3), scale_out));
      if (empty_sum) {
        *out[0] = std::move(c);
        return absl::OkStatus();
      }
      TENSORD_ASSIGN_OR_RETURN(double alpha, ScalarOf(*in[1]));
      TENSORD_RETURN_IF_ERROR(MultiplyInto(*device_, x, y, alpha, 1.0, c));
      *out[0] = std::move(c);
      return absl::OkStatus();
    }
    TENSORD_RETURN_IF_ERROR(MultiplyInto(*device_, x, y, 1.0, 0.0, c));  // dot_composite
    absl::InlinedVector<const Tensor*, 8> program_in = {&c};
    program_in.insert(program_in.end(), in.begin() + 2, in.end());
    return epilogue_->Run(program_in, out);
  }

 private:
  // A contraction of operands of other ranks, or over several axes or none (dot of an n-d x or
  // of a vector, the tensordots of its gradient, an outer product): each operand packed
  // contiguous where it is a view, then seen as a matrix of its free and contracted dims
  // (transposed where the contracted ones lead; a vector is one row or one column, no contracted
  // dim one of size 1), one product into the output seen as (free of x, free of y).
  absl::Status RunContraction(const Tensor& x, const Tensor& y, Tensor& result) {
    const ContractedBlocks& c = *blocks_;
    TENSORD_RETURN_IF_ERROR(ops::CheckContractionShapes(
        op_, ops::Contraction{false, c.axes_x, c.axes_y}, x.shape(), y.shape()));
    auto split = [](const Tensor& t, const std::vector<int64_t>& axes, runtime::Shape* free) {
      int64_t summed = 1, kept = 1;
      for (int d = 0; d < t.ndim(); ++d) {
        if (std::find(axes.begin(), axes.end(), d) != axes.end()) {
          summed *= t.shape()[d];
        } else {
          kept *= t.shape()[d];
          free->push_back(t.shape()[d]);
        }
      }
      return std::pair<int64_t, int64_t>{kept, summed};
    };
    runtime::Shape shape;
    const auto [m, k] = split(x, c.axes_x, &shape);
    const int64_t n = split(y, c.axes_y, &shape).first;
    TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), shape));
    if (result.num_elements() == 0) return absl::OkStatus();
    TENSORD_ASSIGN_OR_RETURN(Tensor px, Packed(pack_, *device_, x));
    TENSORD_ASSIGN_OR_RETURN(Tensor py, Packed(pack_, *device_, y));
    // x as (m, k): row-major when its contracted dims trail, else a transposed (k, m).
    const Tensor a =
        c.x_leads ? px.StridedView({m, k}, {1, m}, 0) : px.StridedView({m, k}, {k, 1}, 0);
    // y as (k, n): row-major when its contracted dims lead, else a transposed (n, k).
    const Tensor b =
        c.y_leads ? py.StridedView({k, n}, {n, 1}, 0) : py.StridedView({k, n}, {1, k}, 0);
    Tensor out = result.StridedView({m, n}, {n, 1}, 0);
    return MultiplyInto(*device_, a, b, 1.0, 0.0, out);
  }

  const std::string op_;
  const std::shared_ptr<DeviceRuntime> device_;
  StridedWrite pack_;                            // an operand made contiguous (RunContraction)
  std::optional<ContractedBlocks> blocks_;       // a contraction not of two matrices over one axis
  std::optional<ops::Contraction> contraction_;  // a dot's or tensordot's, for its shape check
  bool transpose_x_ = false, transpose_y_ = false;
  std::unique_ptr<backends::Kernel> epilogue_;             // dot_composite's program
  std::unique_ptr<backends::Kernel> scale_, scale_empty_;  // gemm's beta * z (ScaleProgram)
};

// x's row dims (those between the batch dim and the summed last one) as one dim: the stride of
// the innermost of them with more than one entry, each outer one's stride being the inner one's
// times its entries (dims of one entry skipped: any stride); nullopt where they do not merge.
// No such dim: one row, its stride never used. (cpu::MergeDims answers the same for any
// operands, but builds vectors on every run.)
std::optional<int64_t> MergedRowStride(const Tensor& x) {
  int innermost = -1, inner = -1;  // row dims of more than one entry, walking outwards
  for (int d = x.ndim() - 2; d >= 1; --d) {
    if (x.shape()[d] == 1) continue;
    if (inner >= 0 && x.strides()[d] != x.strides()[inner] * x.shape()[inner]) return std::nullopt;
    if (innermost < 0) innermost = d;
    inner = d;
  }
  return innermost >= 0 ? x.strides()[innermost] : x.shape().back();
}

// batched_dot, (B, m, k) x (B, k, n) -> (B, m, n): one strided batched gemm, each item's
// matrices read as row-major or transposed views, all items alike. A 2-d operand is a batch of
// vectors: (B, k) as x is (B, 1, k), as y (B, k, 1), and that dim is not in the output (the
// host's shapes: (B,) for two of them). x's row dims are merged into one
// (MergedRowStride), x packed contiguous first where they do not merge or its items are not
// matrices cuBLAS reads, and y packed where its items are not, so (B, d1, ..., k) . (B, k, n)
// is (B, d1 * ..., k) . (B, k, n).
class BatchedProductKernel final : public backends::Kernel {
 public:
  BatchedProductKernel(DType dtype, std::shared_ptr<DeviceRuntime> device)
      : pack_(dtype, dtype, false), device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    Tensor x = *in[0];
    Tensor y = *in[1];
    const int ax = x.ndim() - 1, ay = std::max(1, y.ndim() - 2);  // the summed axes
    TENSORD_RETURN_IF_ERROR(ops::CheckContractionShapes(
        "batched_dot", ops::Contraction{true, {ax}, {ay}}, x.shape(), y.shape()));
    const bool x_rows = x.ndim() >= 3, y_columns = y.ndim() >= 3;
    const int64_t items = x.shape()[0], k = x.shape()[ax];
    int64_t m = 1;
    runtime::Shape shape = {items};
    for (int d = 1; d < ax; ++d) {
      m *= x.shape()[d];
      shape.push_back(x.shape()[d]);
    }
    // y's free dims (all but the batch and the summed one), in order, are the columns.
    int64_t n = 1;
    for (int d = 1; d < y.ndim(); ++d) {
      if (d == ay) continue;
      n *= y.shape()[d];
      shape.push_back(y.shape()[d]);
    }
    Tensor& c = *out[0];
    TENSORD_RETURN_IF_ERROR(c.Reshape(x.dtype(), shape));
    if (c.num_elements() == 0) return absl::OkStatus();
    if (x.host_accessible() || y.host_accessible() || c.host_accessible()) {
      return Internal("an operand of a CUDA product is in host memory");
    }
    if (y.ndim() > 3) {  // each item's summed dim first, then its free dims: (batch, k, n)
      runtime::Shape items_first = {items, k};
      runtime::Strides strides = {y.strides()[0], y.strides()[ay]};
      for (int d = 1; d < y.ndim(); ++d) {
        if (d == ay) continue;
        items_first.push_back(y.shape()[d]);
        strides.push_back(y.strides()[d]);
      }
      TENSORD_ASSIGN_OR_RETURN(
          y, Packed(pack_, *device_, y.StridedView(items_first, std::move(strides), 0)));
      y = y.View({items, k, n});
    }
    // One item of each: a vector's missing dim has one entry (its stride only needs to satisfy
    // AsBlasOperand).
    auto x_item = [&](const Tensor& v) -> absl::StatusOr<BlasOperand> {
      const std::optional<int64_t> rows = MergedRowStride(v);
      if (!rows.has_value()) return Unimplemented("rows that do not merge");
      const int64_t v_k = v.strides()[ax];
      return AsBlasOperand(v.StridedView({m, k}, {x_rows ? *rows : v_k * k, v_k}, 0), 0);
    };
    auto y_item = [&](const Tensor& v) {
      const int64_t v_k = v.strides()[1];  // the summed axis, once y is at most 3-d
      return AsBlasOperand(v.StridedView({k, n}, {v_k, y_columns ? v.strides()[2] : v_k * k}, 0),
                           1);
    };
    absl::StatusOr<BlasOperand> a = x_item(x);
    if (!a.ok()) {
      TENSORD_ASSIGN_OR_RETURN(x, Packed(pack_, *device_, x));
      a = x_item(x);
    }
    Tensor y_read = y;
    absl::StatusOr<BlasOperand> b = y_item(y_read);
    if (!b.ok()) {
      TENSORD_ASSIGN_OR_RETURN(y_read, Packed(pack_, *device_, y));
      b = y_item(y_read);
    }
    TENSORD_RETURN_IF_ERROR(a.status());
    TENSORD_RETURN_IF_ERROR(b.status());
    GemmBatch batch;
    batch.count = items;
    batch.stride_a = x.strides()[0];
    batch.stride_b = y_read.strides()[0];
    batch.stride_c = m * n;
    return device_->Gemm(x.dtype(), a->transposed, b->transposed, m, n, k, 1.0, a->data, a->ld,
                         b->data, b->ld, 0.0, c.raw(), batch);
  }

 private:
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// batched_tensordot over any axes, as the host's kernel computes it: x permuted to (batch, its
// free dims, its summed dims) and y to (batch, its summed dims, its free dims), each packed
// contiguous on the device, then one strided batched gemm of (m, k) by (k, n) items.
class PackedContractionKernel final : public backends::Kernel {
 public:
  PackedContractionKernel(std::string op, ops::Contraction c, DType dtype,
                          std::shared_ptr<DeviceRuntime> device)
      : op_(std::move(op)),
        c_(std::move(c)),
        pack_(dtype, dtype, false),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    const Tensor& y = *in[1];
    TENSORD_RETURN_IF_ERROR(ops::CheckContractionShapes(op_, c_, x.shape(), y.shape()));
    const std::vector<int> free_x = ops::FreeAxes(x.ndim(), true, c_.axes_a);
    const std::vector<int> free_y = ops::FreeAxes(y.ndim(), true, c_.axes_b);
    std::vector<int> order_x = {0}, order_y = {0};
    runtime::Shape shape = {x.shape()[0]};
    int64_t m = 1, k = 1, n = 1;
    for (int d : free_x) order_x.push_back(d), shape.push_back(x.shape()[d]), m *= x.shape()[d];
    for (int d : free_y) shape.push_back(y.shape()[d]), n *= y.shape()[d];
    for (int64_t d : c_.axes_a) order_x.push_back(static_cast<int>(d)), k *= x.shape()[d];
    for (int64_t d : c_.axes_b) order_y.push_back(static_cast<int>(d));
    for (int d : free_y) order_y.push_back(d);
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), shape));
    if (result.num_elements() == 0) return absl::OkStatus();
    if (x.host_accessible() || y.host_accessible() || result.host_accessible()) {
      return Internal("an operand of a CUDA product is in host memory");
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor px, Packed(pack_, *device_, Permuted(x, order_x)));
    TENSORD_ASSIGN_OR_RETURN(Tensor py, Packed(pack_, *device_, Permuted(y, order_y)));
    GemmBatch batch;
    batch.count = x.shape()[0];
    batch.stride_a = m * k;
    batch.stride_b = k * n;
    batch.stride_c = m * n;
    return device_->Gemm(x.dtype(), false, false, m, n, k, 1.0, px.raw(), std::max<int64_t>(1, k),
                         py.raw(), std::max<int64_t>(1, n), 0.0, result.raw(), batch);
  }

 private:
  // `t`'s dims in `order`, a view.
  static Tensor Permuted(const Tensor& t, const std::vector<int>& order) {
    runtime::Shape shape;
    runtime::Strides strides;
    for (int d : order) {
      shape.push_back(t.shape()[d]);
      strides.push_back(t.strides()[d]);
    }
    return t.StridedView(std::move(shape), std::move(strides), 0);
  }

  const std::string op_;
  const ops::Contraction c_;
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// Whether every input comes as the op wants it: the compiler casts on the host, which cannot
// touch a GPU's memory (switch wants a bool condition, say).
absl::Status NoHostCasts(const ir::Apply& node) {
  if (!node.def->input_dtypes) return absl::OkStatus();
  const std::vector<std::optional<DType>> wanted = node.def->input_dtypes(node);
  for (size_t k = 0; k < node.inputs.size() && k < wanted.size(); ++k) {
    const DType has = node.inputs[k]->type.dtype;
    if (wanted[k].has_value() && *wanted[k] != has) {
      return Unimplemented("input ", k, " is ", DTypeName(has), ", not the ", DTypeName(*wanted[k]),
                           " the op reads: the host would cast it");
    }
  }
  return absl::OkStatus();
}

}  // namespace

bool IsMatrixProduct(const ir::Apply& node) {
  const bool gemm = node.op == "gemm";
  if (node.op != "dot" && node.op != "tensordot" && node.op != "dot_composite" && !gemm) {
    return false;
  }
  if (node.inputs.size() < 2 || node.outputs.size() != 1 || (gemm && node.inputs.size() != 5)) {
    return false;
  }
  const ir::Type& x = node.inputs[gemm ? 2 : 0]->type;
  const ir::Type& y = node.inputs[gemm ? 3 : 1]->type;
  // dot_composite's other inputs are its program's, which converts them as it reads them. A
  // dot or tensordot of other ranks contracts blocks of dims (ContractionOf): a vector's one dim
  // too (a matrix-vector product, an inner product).
  const bool blocks = (node.op == "dot" || node.op == "tensordot") && x.ndim() >= 1 &&
                      y.ndim() >= 1 && x.ndim() <= kMostWriteDims && y.ndim() <= kMostWriteDims &&
                      ContractionOf(node).has_value();
  if (((x.ndim() != 2 || y.ndim() != 2) && !blocks) || !FloatDType(x.dtype) || y.dtype != x.dtype ||
      node.outputs[0]->type.dtype != x.dtype ||
      (node.op != "dot_composite" && !NoHostCasts(node).ok())) {
    return false;
  }
  if (gemm) {  // z not broadcasting the product to a larger shape (the host's case alone)
    const std::vector<bool> product = {x.broadcastable[0], y.broadcastable[1]};
    return node.inputs[0]->type.ndim() <= 2 && node.inputs[1]->type.ndim() == 0 &&
           node.inputs[4]->type.ndim() == 0 && node.outputs[0]->type.broadcastable == product;
  }
  if (node.op == "tensordot") return blocks;
  return true;
}

bool IsBatchedMatrixProduct(const ir::Apply& node) {
  if ((node.op != "batched_dot" && node.op != "batched_tensordot") || node.inputs.size() != 2 ||
      node.outputs.size() != 1 || !ops::GetContraction(node).ok()) {
    return false;
  }
  const ir::Type& x = node.inputs[0]->type;
  const ir::Type& y = node.inputs[1]->type;
  return x.ndim() >= 2 && x.ndim() <= kMostWriteDims && y.ndim() >= 2 &&
         y.ndim() <= kMostWriteDims && FloatDType(x.dtype) && y.dtype == x.dtype &&
         node.outputs[0]->type.dtype == x.dtype;
}

std::unique_ptr<backends::Kernel> MakeProductKernel(const ir::Apply& node,
                                                    std::shared_ptr<DeviceRuntime> device,
                                                    std::optional<DeviceElementwise> epilogue) {
  return std::make_unique<ProductKernel>(node, std::move(device), std::move(epilogue));
}

std::unique_ptr<backends::Kernel> MakeBatchedProductKernel(const ir::Apply& node,
                                                           std::shared_ptr<DeviceRuntime> device) {
  const DType dtype = node.inputs[0]->type.dtype;
  if (node.op == "batched_tensordot") {
    return std::make_unique<PackedContractionKernel>(node.op, *ops::GetContraction(node), dtype,
                                                     std::move(device));
  }
  return std::make_unique<BatchedProductKernel>(dtype, std::move(device));
}

}  // namespace tensord::cuda
