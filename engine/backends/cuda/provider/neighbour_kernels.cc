#include "engine/backends/cuda/provider/neighbour_kernels.h"

#include "absl/strings/str_cat.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/neighbours.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

const std::vector<std::string> kKernelNames = {"tensord_images2neibs", "tensord_neibs2images"};

// The source's struct, field for field.
struct NeibsParams {
  int64_t planes, rows, cols, count[2], shape[2], step[2], pad[2], wrap;
};

class NeibsKernel final : public backends::Kernel {
 public:
  NeibsKernel(std::string op, ops::NeibsAttrs attrs, DType dtype, std::string source,
              std::shared_ptr<DeviceRuntime> device)
      : op_(std::move(op)),
        attrs_(attrs),
        dtype_(dtype),
        kernels_(std::move(source), kKernelNames),
        pack_(dtype, dtype, false),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const bool to_rows = op_ == "images2neibs";
    TENSORD_ASSIGN_OR_RETURN(const ops::NeibsLayout layout, ops::NeibsLayoutOf(attrs_, op_, in));
    Tensor& result = *out[0];
    TENSORD_RETURN_IF_ERROR(result.Reshape(dtype_, to_rows ? layout.neibs : layout.image));
    if (result.num_elements() == 0) return absl::OkStatus();
    if (in[0]->host_accessible() || result.host_accessible()) {
      return Internal("an operand of a CUDA ", op_, " is in host memory");
    }
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    TENSORD_ASSIGN_OR_RETURN(Tensor x, Packed(pack_, *device_, *in[0]));
    NeibsParams p;
    p.planes = layout.planes;
    p.rows = layout.image[2];
    p.cols = layout.image[3];
    p.wrap = attrs_.mode == ops::NeibsMode::kWrapCentered;
    for (int d = 0; d < 2; ++d) {
      p.count[d] = layout.count[d];
      p.shape[d] = attrs_.shape[d];
      p.step[d] = attrs_.step[d];
      p.pad[d] = attrs_.Pad(d);
    }
    const void* x_data = x.raw();
    void* y_data = result.raw();
    void* args[] = {&x_data, &y_data, &p};
    return device_->Launch((*kernels)[to_rows ? 0 : 1], GridFor(result.num_elements()), kThreads,
                           args);
  }

 private:
  const std::string op_;
  const ops::NeibsAttrs attrs_;
  const DType dtype_;
  KernelsOnce kernels_;
  StridedWrite pack_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// The kernels, after the typedefs of T (the values) and U (what a sum is computed in: T for
// floats, an unsigned type for integers and bool, so that a sum wraps as the host's does).
constexpr char kKernels[] = R"(
struct tensord_neibs_params {
  long long planes, rows, cols, count[2], shape[2], step[2], pad[2], wrap;
};
// A patch's coordinate `at` on an image dim of `size`: wrapped once in mode wrap_centered.
__device__ inline long long tensord_neibs_wrap(long long at, long long size, long long wrap) {
  if (!wrap) return at;
  return at < 0 ? at + size : at >= size ? at - size : at;
}
// The patches along dim d whose element i reads unwrapped coordinate `at`: [first, last].
__device__ inline void tensord_neibs_covering(const tensord_neibs_params& p, int d, long long at,
                                              long long* first, long long* last) {
  const long long reach = at + p.pad[d] - p.shape[d] + 1;  // the patch must start at or after
  *first = reach <= 0 ? 0 : (reach + p.step[d] - 1) / p.step[d];
  const long long start = at + p.pad[d];
  *last = start < 0 ? -1 : start / p.step[d];
  if (*last > p.count[d] - 1) *last = p.count[d] - 1;
}
extern "C" __global__ void tensord_images2neibs(const T* x, T* y, const tensord_neibs_params p) {
  const long long width = p.shape[0] * p.shape[1];
  const long long per_plane = p.count[0] * p.count[1] * width;
  const long long n = p.planes * per_plane, step = (long long)blockDim.x * gridDim.x;
  for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < n; o += step) {
    const long long plane = o / per_plane, k = o % per_plane;
    const long long patch = k / width, e = k % width;
    const long long r = tensord_neibs_wrap((patch / p.count[1]) * p.step[0] - p.pad[0] +
                                               e / p.shape[1], p.rows, p.wrap);
    const long long c = tensord_neibs_wrap((patch % p.count[1]) * p.step[1] - p.pad[1] +
                                               e % p.shape[1], p.cols, p.wrap);
    const bool inside = r >= 0 && r < p.rows && c >= 0 && c < p.cols;
    y[o] = inside ? x[(plane * p.rows + r) * p.cols + c] : T(0);
  }
}
extern "C" __global__ void tensord_neibs2images(const T* neibs, T* image,
                                                const tensord_neibs_params p) {
  const long long width = p.shape[0] * p.shape[1];
  const long long per_plane = p.count[0] * p.count[1] * width;
  const long long n = p.planes * p.rows * p.cols, step = (long long)blockDim.x * gridDim.x;
  const int turns = p.wrap ? 1 : 0;  // a wrapped patch may read the element a size away
  for (long long o = (long long)blockIdx.x * blockDim.x + threadIdx.x; o < n; o += step) {
    const long long plane = o / (p.rows * p.cols), r = (o / p.cols) % p.rows, c = o % p.cols;
    const T* rows = neibs + plane * per_plane;
    T sum = T(0);
    // Patch rows in order, then patch columns: the host's order of adding into this element.
    for (int a = -turns; a <= turns; ++a) {
      const long long at_r = r + a * p.rows;
      long long first_r, last_r;
      tensord_neibs_covering(p, 0, at_r, &first_r, &last_r);
      for (long long pr = first_r; pr <= last_r; ++pr) {
        const long long i = at_r + p.pad[0] - pr * p.step[0];
        for (int b = -turns; b <= turns; ++b) {
          const long long at_c = c + b * p.cols;
          long long first_c, last_c;
          tensord_neibs_covering(p, 1, at_c, &first_c, &last_c);
          for (long long pc = first_c; pc <= last_c; ++pc) {
            const long long j = at_c + p.pad[1] - pc * p.step[1];
            const T v = rows[(pr * p.count[1] + pc) * width + i * p.shape[1] + j];
            sum = (T)((U)sum + (U)v);
          }
        }
      }
    }
    image[o] = sum;
  }
}
)";

}  // namespace

bool IsDeviceNeibs(const ir::Apply& node) {
  if (node.op != "images2neibs" && node.op != "neibs2images") return false;
  if (!ops::GetNeibsAttrs(node).ok()) return false;
  return !CudaCType(node.outputs[0]->type.dtype).empty();
}

absl::StatusOr<std::string> NeibsSource(DType dtype) {
  const std::string t = CudaCType(dtype);
  if (t.empty()) return InvalidArgument("CUDA images2neibs of ", DTypeName(dtype));
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/neighbour_kernels.cc).\n", "typedef ",
      t, " T;\ntypedef ", CudaArithmeticType(dtype), " U;\n", kKernels);
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeNeibsKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceNeibs(node)) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  TENSORD_ASSIGN_OR_RETURN(ops::NeibsAttrs attrs, ops::GetNeibsAttrs(node));
  const DType dtype = node.outputs[0]->type.dtype;
  TENSORD_ASSIGN_OR_RETURN(std::string source, NeibsSource(dtype));
  return std::unique_ptr<backends::Kernel>(
      new NeibsKernel(node.op, attrs, dtype, std::move(source), std::move(device)));
}

}  // namespace tensord::cuda
