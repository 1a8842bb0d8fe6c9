#include "engine/backends/cuda/provider/view_writes.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/indexing.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/common/status.h"
#include "engine/ops/defs/creation.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/subtensor.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

constexpr char kWrite[] = "tensord_strided_write";

// The parameters of one write (the source's struct, field for field).
struct WriteParams {
  int64_t n;
  std::array<int64_t, kMostWriteDims> shape, dst_strides, src_strides;
};

// join(*x; axis): each input written into its block of the output along the axis.
class JoinKernel final : public backends::Kernel {
 public:
  JoinKernel(const ir::Apply& node, int64_t axis, std::shared_ptr<DeviceRuntime> device)
      : dtype_(node.outputs[0]->type.dtype), axis_(axis), device_(std::move(device)) {
    for (const ir::Variable* in : node.inputs) {
      writes_.push_back(std::make_unique<StridedWrite>(dtype_, in->type.dtype, false));
    }
  }

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, ops::creation::JoinedShape(in, axis_));
    Tensor& y = *out[0];
    // The node's dtype: its inputs may be of others (converted as written).
    TENSORD_RETURN_IF_ERROR(y.Reshape(dtype_, shape));
    int64_t at = 0;
    for (size_t k = 0; k < in.size(); ++k) {
      runtime::Shape block = shape;
      block[axis_] = in[k]->shape()[axis_];
      const Tensor view = y.StridedView(block, y.strides(), at * y.strides()[axis_]);
      TENSORD_RETURN_IF_ERROR(writes_[k]->Run(*device_, view, *in[k]));
      at += block[axis_];
    }
    return absl::OkStatus();
  }

 private:
  const DType dtype_;
  const int64_t axis_;
  const std::shared_ptr<DeviceRuntime> device_;
  std::vector<std::unique_ptr<StridedWrite>> writes_;
};

// inc_subtensor(x, y, *scalars; idx_list, set_instead_of_inc): x copied to the output (unless
// it is the output, donated), then y added into or set at the view its index selects.
class IncSubtensorKernel final : public backends::Kernel {
 public:
  IncSubtensorKernel(std::vector<ops::subtensor::Entry> entries, bool set, DType x_dtype,
                     DType y_dtype, std::shared_ptr<DeviceRuntime> device)
      : entries_(std::move(entries)),
        set_(set),
        copy_(x_dtype, x_dtype, false),
        update_(x_dtype, y_dtype, !set),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    for (size_t k = 2; k < in.size(); ++k) {
      if (!in[k]->host_accessible()) return Internal("an index of inc_subtensor is on a device");
    }
    const Tensor& x = *in[0];
    const Tensor& y = *in[1];
    Tensor& result = *out[0];
    // Index and shape errors before anything is written, as on the host.
    TENSORD_ASSIGN_OR_RETURN(Tensor view_of_x, cpu::indexing::BasicView(x, entries_, in));
    TENSORD_RETURN_IF_ERROR(cpu::indexing::CheckAssignable(view_of_x, y, set_));
    if (&result != &x) {  // x donated to the output is there already
      TENSORD_RETURN_IF_ERROR(result.Reshape(x.dtype(), x.shape()));
      TENSORD_RETURN_IF_ERROR(copy_.Run(*device_, result, x));
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor view, cpu::indexing::BasicView(result, entries_, in));
    return update_.Run(*device_, view, y);
  }

 private:
  const std::vector<ops::subtensor::Entry> entries_;
  const bool set_;
  StridedWrite copy_, update_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// alloc(value, *dims): the value broadcast to dims read on the host.
class AllocKernel final : public backends::Kernel {
 public:
  AllocKernel(DType dtype, std::shared_ptr<DeviceRuntime> device)
      : fill_(dtype, dtype, false), device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k]->host_accessible()) return Internal("a dimension of alloc is on a device");
    }
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape, ops::creation::AllocShape(in));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(in[0]->dtype(), shape));
    return fill_.Run(*device_, *out[0], *in[0]);
  }

 private:
  StridedWrite fill_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// tile(x; reps): the output seen as (r0, s0, r1, s1, ...) written from x seen as
// (1, s0, 1, s1, ...), which broadcasts over the rep dims.
class TileKernel final : public backends::Kernel {
 public:
  TileKernel(std::vector<int64_t> reps, DType dtype, std::shared_ptr<DeviceRuntime> device)
      : reps_(std::move(reps)), write_(dtype, dtype, false), device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& x = *in[0];
    runtime::Shape grouped;
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape,
                             ops::creation::TiledShape(x.shape(), reps_, &grouped));
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
    if (out[0]->num_elements() == 0) return absl::OkStatus();
    const int lead = static_cast<int>(reps_.size()) - x.ndim();
    runtime::Shape read_shape;
    runtime::Strides read_strides;
    for (int d = 0; d < static_cast<int>(reps_.size()); ++d) {
      read_shape.insert(read_shape.end(), {1, d < lead ? 1 : x.shape()[d - lead]});
      read_strides.insert(read_strides.end(), {0, d < lead ? 0 : x.strides()[d - lead]});
    }
    return write_.Run(*device_, out[0]->View(grouped), x.StridedView(read_shape, read_strides, 0));
  }

 private:
  const std::vector<int64_t> reps_;
  StridedWrite write_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// The gather of repeat with a count per entry: y (outer, total, inner) from x (outer, n, inner),
// both C-contiguous, y[o, p, i] = x[o, from[p], i], a thread per element of y.
std::string RepeatGatherSource(DType dtype) {
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/view_writes.cc).\n", "typedef ",
      CudaCType(dtype), " T;\n",
      R"(extern "C" __global__ void tensord_repeat_gather(const T* x, T* y, const long long* from,
    long long outer, long long total, long long n, long long inner) {
  const long long count = outer * total * inner, step = (long long)blockDim.x * gridDim.x;
  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < count; e += step) {
    const long long i = e % inner, p = e / inner % total, o = e / inner / total;
    y[e] = x[(o * n + from[p]) * inner + i];
  }
}
)");
}

// repeat(x, counts; axis), the counts read on the host. One count: the output's axis seen as
// (n, count) written from x with a dim of 1 after the axis, which broadcasts over the copies;
// axis=None splits the same way after the last dim (x in C order, each element repeated). A
// count per entry: the output's positions along the axis each name the entry they copy, a map
// made on the host and gathered from on the device.
class RepeatKernel final : public backends::Kernel {
 public:
  RepeatKernel(std::optional<int64_t> axis, DType dtype, std::shared_ptr<DeviceRuntime> device)
      : axis_(axis),
        write_(dtype, dtype, false),
        gather_(RepeatGatherSource(dtype), {"tensord_repeat_gather"}),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (!in[1]->host_accessible()) return Internal("repeat's counts are on a device");
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> counts, ops::ReadInts(*in[1], "repeat: repeats"));
    const Tensor& x = *in[0];
    const int64_t n = axis_.has_value() ? x.shape()[*axis_] : x.num_elements();
    TENSORD_ASSIGN_OR_RETURN(const int64_t total,
                             ops::creation::RepeatedLength(counts, in[1]->ndim(), n));
    runtime::Shape shape = runtime::Shape{total};
    if (axis_.has_value()) {
      shape = x.shape();
      shape[*axis_] = total;
    }
    TENSORD_RETURN_IF_ERROR(out[0]->Reshape(x.dtype(), shape));
    if (out[0]->num_elements() == 0) return absl::OkStatus();
    if (counts.size() > 1) return Gather(x, counts, n, total, *out[0]);
    // After the axis, or after every dim (axis=None: x in C order, each element repeated).
    const int64_t split = axis_.has_value() ? *axis_ + 1 : x.ndim();
    runtime::Shape grouped = x.shape(), read_shape = x.shape();
    runtime::Strides read_strides = x.strides();
    grouped.insert(grouped.begin() + split, counts[0]);
    read_shape.insert(read_shape.begin() + split, 1);
    read_strides.insert(read_strides.begin() + split, 0);
    return write_.Run(*device_, out[0]->View(grouped), x.StridedView(read_shape, read_strides, 0));
  }

 private:
  absl::Status Gather(const Tensor& x, const std::vector<int64_t>& counts, int64_t n, int64_t total,
                      Tensor& y) {
    int64_t outer = 1, inner = 1;
    if (axis_.has_value()) {
      for (int d = 0; d < *axis_; ++d) outer *= x.shape()[d];
      for (int d = *axis_ + 1; d < x.ndim(); ++d) inner *= x.shape()[d];
    }
    runtime::MemoryCounter* device = y.buffer()->counter();
    Tensor map;
    {
      runtime::ScopedMemoryContext on_host(runtime::HostWritable(device));
      TENSORD_ASSIGN_OR_RETURN(map, Tensor::Allocate(DType::kInt64, {total}));  // may be refused
      int64_t* from = map.data<int64_t>();
      for (int64_t j = 0; j < n; ++j) from = std::fill_n(from, counts[j], j);
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor from, runtime::IntoContext(std::move(map), device));
    TENSORD_ASSIGN_OR_RETURN(Tensor packed, Packed(write_, *device_, x));  // C order
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, gather_.Get(*device_));
    const void* x_data = packed.raw();
    void* y_data = y.raw();
    const void* from_data = from.raw();
    void* args[] = {&x_data, &y_data, &from_data, &outer, &total, &n, &inner};
    return device_->Launch((*kernels)[0], GridFor(y.num_elements()), kThreads, args);
  }

  const std::optional<int64_t> axis_;
  StridedWrite write_;  // also packs x for the gather
  KernelsOnce gather_;
  const std::shared_ptr<DeviceRuntime> device_;
};

bool HeldByTheDevice(const ir::Variable* v) {
  return !CudaCType(v->type.dtype).empty() && v->type.ndim() <= kMostWriteDims;
}

// Whether writing `from` into `to` converts as the host's cast would (GpuConvertsOtherwise).
bool ConvertsAsTheHost(const ir::Variable* to, const ir::Variable* from) {
  return !GpuConvertsOtherwise(from->type.dtype, to->type.dtype);
}

}  // namespace

bool IsDeviceViewWrite(const ir::Apply& node) {
  if (node.op == "tile") {  // two written dims per output dim
    absl::StatusOr<std::vector<int64_t>> reps = ops::creation::PaddedReps(node);
    return reps.ok() && !CudaCType(node.inputs[0]->type.dtype).empty() &&
           2 * static_cast<int>(reps->size()) <= kMostWriteDims;
  }
  if (node.op == "repeat") {  // one count, or a vector of them
    return node.inputs.size() == 2 && node.inputs[1]->type.ndim() <= 1 &&
           ops::creation::RepeatAxis(node).ok() && !CudaCType(node.inputs[0]->type.dtype).empty() &&
           node.inputs[0]->type.ndim() < kMostWriteDims;
  }
  if (node.op != "join" && node.op != "inc_subtensor" && node.op != "alloc") return false;
  if (node.outputs.size() != 1 || node.inputs.empty() || !HeldByTheDevice(node.outputs[0])) {
    return false;
  }
  if (node.op == "alloc") return node.inputs[0]->type.dtype == node.outputs[0]->type.dtype;
  if (node.op == "join") {
    return ops::creation::Axis(node).ok() &&
           std::all_of(node.inputs.begin(), node.inputs.end(), [&](const ir::Variable* in) {
             return HeldByTheDevice(in) && ConvertsAsTheHost(node.outputs[0], in);
           });
  }
  return node.inputs.size() >= 2 && HeldByTheDevice(node.inputs[1]) &&
         ConvertsAsTheHost(node.inputs[0], node.inputs[1]) &&
         ops::subtensor::ParseIndex(node, 2, false).ok() &&
         ops::subtensor::SetInsteadOfInc(node).ok();
}

absl::StatusOr<std::string> StridedWriteSource(DType to, DType from, bool add) {
  const std::string to_type = CudaCType(to), from_type = CudaCType(from);
  if (to_type.empty() || from_type.empty()) {
    return InvalidArgument("a CUDA write of ", DTypeName(from), " into ", DTypeName(to));
  }
  const int r = kMostWriteDims;
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/view_writes.cc).\n", "typedef ",
      to_type, " To;\ntypedef ", from_type, " From;\n", "struct ", kWrite,
      "_params {\n  long long n;\n  long long shape[", r, "], dst_strides[", r, "], src_strides[",
      r, "];\n};\n", OffsetSource(r), "extern \"C\" __global__ void ", kWrite,
      "(To* dst, const From* src, const ", kWrite,
      "_params p) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long e = (long long)blockIdx.x * blockDim.x + threadIdx.x; e < p.n;"
      " e += step) {\n"
      "    const long long d_at = tensord_offset(e, p.shape, p.dst_strides);\n"
      "    const long long s_at = tensord_offset(e, p.shape, p.src_strides);\n",
      add ? "    dst[d_at] = To(dst[d_at] + To(src[s_at]));\n" : "    dst[d_at] = To(src[s_at]);\n",
      "  }\n}\n");
}

StridedWrite::StridedWrite(DType to, DType from, bool add)
    : source_(StridedWriteSource(to, from, add)), kernel_(source_.value_or(""), {kWrite}) {}

absl::Status StridedWrite::Run(DeviceRuntime& device, const Tensor& dst, const Tensor& src) {
  TENSORD_RETURN_IF_ERROR(source_.status());
  if (dst.num_elements() == 0) return absl::OkStatus();
  if (dst.host_accessible() || (src.num_elements() > 0 && src.host_accessible())) {
    return Internal("an operand of a CUDA write is in host memory");
  }
  const runtime::Strides src_strides = cpu::BroadcastStrides(src, dst.shape());
  const cpu::MergedDims merged = cpu::MergeDims(dst.shape(), {dst.strides(), src_strides});
  const int rank = static_cast<int>(merged.shape.size());
  if (rank > kMostWriteDims) {
    return Unimplemented("a CUDA write walks at most ", kMostWriteDims, " dims; this one ", rank);
  }
  WriteParams p;
  p.n = dst.num_elements();
  p.shape.fill(1);
  p.dst_strides.fill(0);
  p.src_strides.fill(0);
  for (int d = 0; d < rank; ++d) {
    const int slot = kMostWriteDims - rank + d;
    p.shape[slot] = merged.shape[d];
    p.dst_strides[slot] = merged.strides[0][d];
    p.src_strides[slot] = merged.strides[1][d];
  }
  TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernel_.Get(device));
  void* dst_data = const_cast<void*>(dst.raw());
  const void* src_data = src.raw();
  void* args[] = {&dst_data, &src_data, &p};
  return device.Launch((*kernels)[0], GridFor(p.n), kThreads, args);
}

absl::StatusOr<Tensor> Packed(StridedWrite& pack, DeviceRuntime& device, const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor packed;
  {
    runtime::ScopedMemoryContext on(t.buffer()->counter());
    TENSORD_ASSIGN_OR_RETURN(packed, Tensor::Allocate(t.dtype(), t.shape()));
  }
  TENSORD_RETURN_IF_ERROR(pack.Run(device, packed, t));
  return packed;
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeViewWriteKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceViewWrite(node)) return Unimplemented("op '", node.op, "' has no CUDA kernel");
  if (node.op == "alloc") {
    return std::unique_ptr<backends::Kernel>(
        new AllocKernel(node.outputs[0]->type.dtype, std::move(device)));
  }
  if (node.op == "join") {
    TENSORD_ASSIGN_OR_RETURN(int64_t axis, ops::creation::Axis(node));
    return std::unique_ptr<backends::Kernel>(new JoinKernel(node, axis, std::move(device)));
  }
  const DType dtype = node.inputs[0]->type.dtype;
  if (node.op == "tile") {
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> reps, ops::creation::PaddedReps(node));
    return std::unique_ptr<backends::Kernel>(
        new TileKernel(std::move(reps), dtype, std::move(device)));
  }
  if (node.op == "repeat") {
    TENSORD_ASSIGN_OR_RETURN(std::optional<int64_t> axis, ops::creation::RepeatAxis(node));
    return std::unique_ptr<backends::Kernel>(new RepeatKernel(axis, dtype, std::move(device)));
  }
  TENSORD_ASSIGN_OR_RETURN(auto entries, ops::subtensor::ParseIndex(node, 2, false));
  TENSORD_ASSIGN_OR_RETURN(bool set, ops::subtensor::SetInsteadOfInc(node));
  return std::unique_ptr<backends::Kernel>(
      new IncSubtensorKernel(std::move(entries), set, node.inputs[0]->type.dtype,
                             node.inputs[1]->type.dtype, std::move(device)));
}

}  // namespace tensord::cuda
