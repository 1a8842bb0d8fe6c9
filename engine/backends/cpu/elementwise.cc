#include "engine/backends/cpu/elementwise.h"

#include "absl/container/inlined_vector.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using runtime::Tensor;

// Elements per intra-op range of a standalone elementwise op.
constexpr int64_t kParallelGrain = 32 * 1024;

class ElementwiseKernel final : public backends::Kernel {
 public:
  ElementwiseKernel(const ops::ScalarForm& form, std::string op)
      : form_(form), op_(std::move(op)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const size_t arity = static_cast<size_t>(form_.arity);
    if (in.size() < arity) return Internal(op_, " takes ", arity, " inputs, got ", in.size());
    // The dtype the op computes in: its last argument's (never the bool condition of switch).
    const DType dtype = in[arity - 1]->dtype();
    const ops::ElementLoop loop = form_.Loop(dtype);
    if (loop == nullptr) {
      return Unimplemented("op '", op_, "' has no CPU kernel for dtype ",
                           IsValidDType(static_cast<int>(dtype)) ? DTypeName(dtype) : "?");
    }
    const DType out_dtype = form_.predicate ? DType::kBool : dtype;
    absl::InlinedVector<const Shape*, 4> shapes;
    for (const Tensor* t : in) shapes.push_back(&t->shape());
    TENSORD_ASSIGN_OR_RETURN(const Shape shape, BroadcastShapes(shapes));
    Tensor& y = *out[0];
    if (in.size() == arity) return Map(loop, in, shape, out_dtype, y);
    // Left fold: the first pair into y, then y op in[k] into y in place (the loops read element
    // i of every argument before writing element i of the output).
    TENSORD_RETURN_IF_ERROR(Map(loop, in.first(2), shape, out_dtype, y));
    for (size_t k = 2; k < in.size(); ++k) {
      const Tensor* pair[2] = {&y, in[k]};
      TENSORD_RETURN_IF_ERROR(Map(loop, pair, shape, out_dtype, y));
    }
    return absl::OkStatus();
  }

 private:
  // y = loop(args...) over `shape` (the arguments' broadcast), y C-contiguous. y may be one of
  // the arguments (the fold; an input the inplace plan donated) when it already has `shape` and
  // `out_dtype`: its Reshape then keeps the buffer, so what is read below stays valid.
  static absl::Status Map(ops::ElementLoop loop, std::span<const Tensor* const> args,
                          const Shape& shape, DType out_dtype, Tensor& y) {
    const size_t k = args.size();
    absl::InlinedVector<const char*, 4> start(k);
    absl::InlinedVector<int64_t, 4> size(k);
    for (size_t i = 0; i < k; ++i) {
      start[i] = static_cast<const char*>(args[i]->raw());
      size[i] = static_cast<int64_t>(DTypeSize(args[i]->dtype()));
    }
    absl::InlinedVector<int64_t, 4> step(k, 1);
    const int64_t out_size = static_cast<int64_t>(DTypeSize(out_dtype));
    bool flat = true;  // one loop over everything when no operand broadcasts or strides
    for (const Tensor* a : args) flat = flat && a->is_contiguous() && a->shape() == shape;
    if (flat) {
      TENSORD_RETURN_IF_ERROR(y.Reshape(out_dtype, shape));
      char* dst = static_cast<char*>(y.raw());
      // Split over the intra-op threads when big (element i reads only element i, so ranges
      // are independent even when y is an argument).
      runtime::ParallelFor(y.num_elements(), kParallelGrain, [&](int64_t begin, int64_t end) {
        absl::InlinedVector<const void*, 4> at(k);
        for (size_t i = 0; i < k; ++i) at[i] = start[i] + begin * size[i];
        loop(at.data(), step.data(), dst + begin * out_size, end - begin);
      });
      return absl::OkStatus();
    }
    std::vector<Strides> full;
    for (size_t i = 0; i < k; ++i) full.push_back(BroadcastStrides(*args[i], shape));
    // Dims every operand walks uniformly merge, so (256, 10) * a (1, 1) scalar is one row of
    // 2,560, not 256 calls of the row loop (which cost more than the row itself).
    const MergedDims merged = MergeDims(shape, full);
    const Shape& rows = merged.shape;
    const std::vector<Strides>& strides = merged.strides;
    for (size_t i = 0; i < k; ++i) step[i] = strides[i].empty() ? 0 : strides[i].back();
    TENSORD_RETURN_IF_ERROR(y.Reshape(out_dtype, shape));
    if (y.num_elements() == 0) return absl::OkStatus();
    char* dst = static_cast<char*>(y.raw());
    if (rows.empty()) {  // one element
      const absl::InlinedVector<const void*, 4> at(start.begin(), start.end());
      loop(at.data(), step.data(), dst, 1);
      return absl::OkStatus();
    }
    // Big outputs split along the outermost merged dim over the intra-op threads, as above.
    runtime::ParallelFor(
        rows[0], OuterIndicesPerRange(rows, kParallelGrain), [&](int64_t begin, int64_t end) {
          absl::InlinedVector<const void*, 4> at(k);
          ForEachRowIn(rows, strides, begin, end, [&](int64_t n, int64_t o, const int64_t* off) {
            for (size_t i = 0; i < k; ++i) at[i] = start[i] + off[i] * size[i];
            loop(at.data(), step.data(), dst + o * out_size, n);
          });
        });
    return absl::OkStatus();
  }

  const ops::ScalarForm& form_;
  std::string op_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeElementwiseKernel(const ir::Apply& node) {
  if (node.def == nullptr || !node.def->scalar) {
    return Internal("op '", node.op, "' has no scalar form");
  }
  return std::unique_ptr<backends::Kernel>(new ElementwiseKernel(*node.def->scalar, node.op));
}

}  // namespace tensord::cpu
