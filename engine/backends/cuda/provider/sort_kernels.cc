#include "engine/backends/cuda/provider/sort_kernels.h"

#include <array>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/common/status.h"
#include "engine/ops/defs/creation.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

// The lanes' layout: the dims other than the axis, padded in front to kMostSortLaneDims with
// dims of 1; x's and the output's strides over them and along the axis (elements).
struct SortLayout {
  int64_t n, length, x_step, out_step;
  std::array<int64_t, kMostSortLaneDims> shape, x_strides, out_strides;
};

// The lane-major scratch a sort works in: keys and (argsort) their indices along the axis.
struct Scratch {
  Tensor keys, indices;
};

class SortKernel final : public backends::Kernel {
 public:
  SortKernel(int64_t axis, bool indices, std::string source, std::shared_ptr<DeviceRuntime> device)
      : axis_(axis),
        indices_(indices),
        kernels_(std::move(source),
                 {"tensord_sort_load", "tensord_sort_merge", "tensord_sort_store"}),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    Tensor& y = *out[0];
    TENSORD_RETURN_IF_ERROR(y.Reshape(indices_ ? DType::kInt64 : x.dtype(), x.shape()));
    if (x.num_elements() == 0) return absl::OkStatus();
    if (x.host_accessible() || y.host_accessible()) {
      return Internal("an operand of a CUDA sort is in host memory");
    }
    TENSORD_ASSIGN_OR_RETURN(SortLayout layout, Layout(x, y));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    // Scratch freed when this returns, while the kernels may still be queued: the caching
    // allocator hands its blocks only to later work on the same stream.
    std::array<Scratch, 2> scratch;
    {
      runtime::ScopedMemoryContext on(y.buffer()->counter());
      for (Scratch& s : scratch) {
        TENSORD_ASSIGN_OR_RETURN(s.keys, Tensor::Allocate(x.dtype(), {layout.n}));
        if (indices_) {
          TENSORD_ASSIGN_OR_RETURN(s.indices, Tensor::Allocate(DType::kInt64, {layout.n}));
        }
      }
    }
    const int64_t blocks = GridFor(layout.n);
    const void* x_data = x.raw();
    void* keys = scratch[0].keys.raw();
    void* indices = indices_ ? scratch[0].indices.raw() : nullptr;
    void* load_args[] = {&x_data, &keys, &indices, &layout};
    TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[0], blocks, kThreads, load_args));
    int from = 0;
    for (int64_t width = 1; width < layout.length; width *= 2, from = 1 - from) {
      const void* keys_from = scratch[from].keys.raw();
      const void* indices_from = indices_ ? scratch[from].indices.raw() : nullptr;
      void* keys_to = scratch[1 - from].keys.raw();
      void* indices_to = indices_ ? scratch[1 - from].indices.raw() : nullptr;
      int64_t n = layout.n, length = layout.length, run = width;
      void* merge_args[] = {&keys_from, &indices_from, &keys_to, &indices_to, &n, &length, &run};
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[1], blocks, kThreads, merge_args));
    }
    const void* sorted = indices_ ? scratch[from].indices.raw() : scratch[from].keys.raw();
    void* y_data = y.raw();
    void* store_args[] = {&sorted, &y_data, &layout};
    return device_->Launch((*kernels)[2], blocks, kThreads, store_args);
  }

 private:
  absl::StatusOr<SortLayout> Layout(const Tensor& x, const Tensor& y) const {
    const int rank = x.ndim();
    if (rank - 1 > kMostSortLaneDims) {
      return Unimplemented("a CUDA sort's input has at most ", kMostSortLaneDims + 1, " dims");
    }
    SortLayout l;
    l.n = x.num_elements();
    l.length = x.shape()[axis_];
    l.x_step = x.strides()[axis_];
    l.out_step = y.strides()[axis_];
    l.shape.fill(1);
    l.x_strides.fill(0);
    l.out_strides.fill(0);
    for (int d = 0, slot = kMostSortLaneDims - (rank - 1); d < rank; ++d) {
      if (d == axis_) continue;
      l.shape[slot] = x.shape()[d];
      l.x_strides[slot] = x.strides()[d];
      l.out_strides[slot] = y.strides()[d];
      ++slot;
    }
    return l;
  }

  const int64_t axis_;
  const bool indices_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// The element loop of every kernel: e over the n elements, lane-major.
constexpr char kEachElement[] =
    "  const long long step = (long long)blockDim.x * gridDim.x;\n"
    "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += step) {\n";

}  // namespace

bool IsDeviceSort(const ir::Apply& node) {
  if ((node.op != "sort" && node.op != "argsort") || node.inputs.size() != 1) return false;
  const ir::Type& x = node.inputs[0]->type;
  return ops::creation::Axis(node).ok() && !CudaCType(x.dtype).empty() &&
         x.ndim() <= kMostSortLaneDims + 1;
}

absl::StatusOr<std::string> SortSource(DType dtype, bool indices) {
  const std::string key = CudaCType(dtype);
  if (key.empty()) return InvalidArgument("a CUDA sort of ", DTypeName(dtype));
  // NumPy's order: NaN after everything, +inf included; NaNs equal to each other.
  const std::string less = FloatDType(dtype) ? "(a < b || (isnan(b) && !isnan(a)))" : "(a < b)";
  const int r = kMostSortLaneDims;
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/sort_kernels.cc).\n", "typedef ", key,
      " K;\n", "#define WITH_INDICES ", indices ? 1 : 0, "\n",
      "struct tensord_sort_params {\n  long long n, length, x_step, out_step;\n  long long shape[",
      r, "], x_strides[", r, "], out_strides[", r,
      "];\n};\n"
      "__device__ inline bool tensord_less(K a, K b) { return ",
      less, "; }\n", OffsetSource(r),
      // How many of a sorted run come before `key`: those less than it, or (`or_equal`, for a
      // key of the right run) not greater.
      "__device__ inline long long tensord_before(const K* run, long long count, K key,\n"
      "                                           bool or_equal) {\n"
      "  long long lo = 0, hi = count;\n"
      "  while (lo < hi) {\n"
      "    const long long mid = lo + (hi - lo) / 2;\n"
      "    const bool before = or_equal ? !tensord_less(key, run[mid]) : tensord_less(run[mid], "
      "key);\n"
      "    if (before) lo = mid + 1; else hi = mid;\n"
      "  }\n"
      "  return lo;\n}\n"
      "extern \"C\" __global__ void tensord_sort_load(const K* x, K* keys, long long* indices,\n"
      "                                               const tensord_sort_params p) {\n"
      "  const long long n = p.n;\n",
      kEachElement,
      "    const long long i = e % p.length;\n"
      "    keys[e] = x[tensord_offset(e / p.length, p.shape, p.x_strides) + i * p.x_step];\n"
      "    if (WITH_INDICES) indices[e] = i;\n"
      "  }\n}\n"
      // Runs of `width` merged pairwise: left [r0, mid), right [mid, end) of each lane.
      "extern \"C\" __global__ void tensord_sort_merge(const K* keys, const long long* indices,\n"
      "    K* keys_to, long long* indices_to, long long n, long long length, long long width) {\n",
      kEachElement,
      "    const long long base = e - e % length, i = e - base;\n"
      "    const long long r0 = i - i % (2 * width);\n"
      "    const long long mid = r0 + width < length ? r0 + width : length;\n"
      "    const long long end = r0 + 2 * width < length ? r0 + 2 * width : length;\n"
      "    const K key = keys[e];\n"
      "    const long long to = i < mid\n"
      "        ? i + tensord_before(keys + base + mid, end - mid, key, false)\n"
      "        : r0 + (i - mid) + tensord_before(keys + base + r0, mid - r0, key, true);\n"
      "    keys_to[base + to] = key;\n"
      "    if (WITH_INDICES) indices_to[base + to] = indices[e];\n"
      "  }\n}\n"
      "extern \"C\" __global__ void tensord_sort_store(const void* sorted, void* out,\n"
      "                                                const tensord_sort_params p) {\n"
      "  typedef ",
      indices ? "long long" : "K",
      " V;\n"
      "  const long long n = p.n;\n",
      kEachElement,
      "    const long long at = tensord_offset(e / p.length, p.shape, p.out_strides);\n"
      "    ((V*)out)[at + (e % p.length) * p.out_step] = ((const V*)sorted)[e];\n"
      "  }\n}\n");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeSortKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceSort(node)) return Unimplemented("op '", node.op, "' sorts on the host only");
  TENSORD_ASSIGN_OR_RETURN(int64_t axis, ops::creation::Axis(node));
  const bool indices = node.op == "argsort";
  TENSORD_ASSIGN_OR_RETURN(std::string source, SortSource(node.inputs[0]->type.dtype, indices));
  return std::unique_ptr<backends::Kernel>(
      new SortKernel(axis, indices, std::move(source), std::move(device)));
}

}  // namespace tensord::cuda
