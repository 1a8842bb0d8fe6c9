// CPU kernels of the ops declared in engine/ops/defs/neighbours.cc: direct loops over the
// patches, image planes (batch x channels) split over the intra-op threads.
#include "engine/ops/defs/neighbours.h"

#include <cstring>

#include "engine/backends/cpu/kernels/register.h"
#include "engine/runtime/parallel.h"

namespace tensord::cpu {
namespace {

using namespace ::tensord::ops;  // NOLINT: the ops these kernels run

// The patch layout of one image shape.
struct Patches {
  int64_t planes, rows, cols;  // planes = N * C; rows, cols: the image's
  int64_t count[2];            // patches down and across
  int64_t size() const { return count[0] * count[1]; }
};

// Calls fn(plane, first row of the plane's patches) for every plane, split over the threads.
template <typename Fn>
void ForEachPlane(const Patches& p, const NeibsAttrs& a, Fn&& fn) {
  const int64_t work = std::max<int64_t>(1, p.size() * a.shape[0] * a.shape[1]);
  runtime::ParallelFor(p.planes, std::max<int64_t>(1, 65536 / work),
                       [&](int64_t begin, int64_t end) {
                         for (int64_t plane = begin; plane < end; ++plane) fn(plane);
                       });
}

// `at` of a coordinate within one patch of size <= `size` of its start: wrapped once onto the
// image in mode wrap_centered, else left as it is (outside the image: padding).
inline int64_t Wrap(int64_t at, int64_t size, bool wrap) {
  if (!wrap) return at;
  return at < 0 ? at + size : at >= size ? at - size : at;
}

// Calls visit(element of the patch row, offset in the plane or -1 in the padding) for every
// element of every patch of one plane, rows in order.
template <typename Visit>
void ForEachPatchElement(const Patches& p, const NeibsAttrs& a, Visit&& visit) {
  const bool wrap = a.mode == NeibsMode::kWrapCentered;
  int64_t k = 0;
  for (int64_t pr = 0; pr < p.count[0]; ++pr) {
    for (int64_t pc = 0; pc < p.count[1]; ++pc) {
      for (int64_t i = 0; i < a.shape[0]; ++i) {
        const int64_t y = Wrap(pr * a.step[0] - a.Pad(0) + i, p.rows, wrap);
        for (int64_t j = 0; j < a.shape[1]; ++j, ++k) {
          const int64_t x = Wrap(pc * a.step[1] - a.Pad(1) + j, p.cols, wrap);
          const bool inside = y >= 0 && y < p.rows && x >= 0 && x < p.cols;
          visit(k, inside ? y * p.cols + x : -1);
        }
      }
    }
  }
}

class NeibsKernel final : public Kernel {
 public:
  explicit NeibsKernel(const ir::Apply& node) : op_(node.op), attrs_(GetNeibsAttrs(node)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_RETURN_IF_ERROR(attrs_.status());
    TENSORD_ASSIGN_OR_RETURN(const NeibsLayout layout, NeibsLayoutOf(*attrs_, op_, in));
    const Tensor x = Contiguous(*in[0]);
    const Patches p{
        layout.planes, layout.image[2], layout.image[3], {layout.count[0], layout.count[1]}};
    const int64_t width = layout.neibs[1];
    Tensor& result = *out[0];
    if (op_ == "images2neibs") {
      TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), layout.neibs));
    } else {
      TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), layout.image));
      std::memset(result.raw(), 0, result.num_bytes());
    }
    // Not on an empty x alone: patches of an image with a dim of 0 in mode full are all padding,
    // zeros to write.
    if (result.num_elements() == 0) return absl::OkStatus();
    const int64_t plane_size = p.rows * p.cols, plane_rows = p.size() * width;
    return DispatchAll(x.dtype(), [&](auto tag) -> absl::Status {
      using T = typename decltype(tag)::type;
      const T* src = x.data<T>();
      T* dst = result.data<T>();
      ForEachPlane(p, *attrs_, [&](int64_t plane) {
        if (op_ == "images2neibs") {
          const T* image_plane = src + plane * plane_size;
          T* rows = dst + plane * plane_rows;
          ForEachPatchElement(p, *attrs_, [&](int64_t k, int64_t at) {
            rows[k] = at >= 0 ? image_plane[at] : T(0);
          });
        } else {
          const T* rows = src + plane * plane_rows;
          T* image_plane = dst + plane * plane_size;
          ForEachPatchElement(p, *attrs_, [&](int64_t k, int64_t at) {
            if (at >= 0) image_plane[at] = static_cast<T>(image_plane[at] + rows[k]);
          });
        }
      });
      return absl::OkStatus();
    });
  }

 private:
  const std::string op_;
  const absl::StatusOr<NeibsAttrs> attrs_;
};

}  // namespace

void RegisterNeighboursKernels(backends::KernelTable& k) {
  for (const char* op : {"images2neibs", "neibs2images"}) k.Add(op, backends::Make<NeibsKernel>());
}

}  // namespace tensord::cpu
