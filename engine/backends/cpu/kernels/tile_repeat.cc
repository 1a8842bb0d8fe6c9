// CPU kernels of the ops declared in engine/ops/defs/tile_repeat.cc.
#include <cstring>

#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/kernels/register.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/type_rules.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;            // NOLINT: the ops these kernels run
using namespace ::tensord::ops::creation;  // NOLINT

class TileKernel final : public Kernel {
 public:
  explicit TileKernel(std::vector<int64_t> reps) : reps_(std::move(reps)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    const int nd = static_cast<int>(reps_.size());
    const int lead = nd - x.ndim();
    // The output seen as (r0, s0, r1, s1, ...): the rep axes read x with stride 0.
    Shape grouped;
    TENSORD_ASSIGN_OR_RETURN(Shape out_shape, TiledShape(x.shape(), reps_, &grouped));
    Strides read;
    for (int d = 0; d < nd; ++d) read.insert(read.end(), {0, d < lead ? 0 : x.strides()[d - lead]});
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), out_shape));
    Tensor view = out[0]->View(grouped);
    StridedCopyAny(x, read, view);
    return absl::OkStatus();
  }

 private:
  std::vector<int64_t> reps_;
};

class RepeatKernel final : public Kernel {
 public:
  explicit RepeatKernel(std::optional<int64_t> axis) : axis_(axis) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor x = Contiguous(*in[0]);
    TENSORD_ASSIGN_OR_RETURN(auto counts, ReadInts(*in[1], "repeat: repeats"));
    // Regroup x as (outer, n, inner) around the repeated axis.
    int64_t outer = 1, n = x.num_elements(), inner = 1;
    if (axis_.has_value()) {
      n = x.shape()[*axis_];
      for (int d = 0; d < *axis_; ++d) outer *= x.shape()[d];
      for (int d = *axis_ + 1; d < x.ndim(); ++d) inner *= x.shape()[d];
    }
    TENSORD_ASSIGN_OR_RETURN(const int64_t total, RepeatedLength(counts, in[1]->ndim(), n));
    const bool one_count = counts.size() == 1;
    Shape shape = axis_.has_value() ? x.shape() : Shape{total};
    if (axis_.has_value()) shape[*axis_] = total;
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
    const size_t row = inner * DTypeSize(x.dtype());
    const char* src = static_cast<const char*>(x.raw());
    char* dst = static_cast<char*>(out[0]->raw());
    // An empty output copies nothing (and the loops below could spin ~forever on zero-byte rows).
    if (out[0]->num_elements() == 0) return absl::OkStatus();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t i = 0; i < n; ++i, src += row) {
        const int64_t count = counts[one_count ? 0 : i];
        for (int64_t c = 0; c < count; ++c, dst += row) std::memcpy(dst, src, row);
      }
    }
    return absl::OkStatus();
  }

 private:
  std::optional<int64_t> axis_;
};

class FlattenKernel final : public Kernel {
 public:
  explicit FlattenKernel(int64_t ndim) : ndim_(ndim) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    Shape shape(x.shape().begin(), x.shape().begin() + (ndim_ - 1));
    int64_t rest = 1;
    for (int d = static_cast<int>(ndim_) - 1; d < x.ndim(); ++d) rest *= x.shape()[d];
    shape.push_back(rest);
    return ViewAsShape(x, std::move(shape), *out[0]);
  }

 private:
  int64_t ndim_;
};

}  // namespace

void RegisterTileRepeatKernels(backends::KernelTable& k) {
  k.Add("tile", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto reps, PaddedReps(node));
    return std::unique_ptr<Kernel>(new TileKernel(std::move(reps)));
  });
  k.Add("repeat", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(auto axis, RepeatAxis(node));
    return std::unique_ptr<Kernel>(new RepeatKernel(axis));
  });
  k.Add("flatten", [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
    TENSORD_ASSIGN_OR_RETURN(int64_t ndim, FlattenNdim(node));
    return std::unique_ptr<Kernel>(new FlattenKernel(ndim));
  });
}

}  // namespace tensord::cpu
