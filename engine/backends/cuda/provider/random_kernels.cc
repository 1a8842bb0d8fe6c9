#include "engine/backends/cuda/provider/random_kernels.h"

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/binomial_step.h"
#include "engine/backends/cpu/kernels/random_sampling.h"
#include "engine/backends/cpu/mrg_step.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/per_element_binomial.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"  // kMostWriteDims
#include "engine/common/dtype_dispatch.h"
#include "engine/common/status.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/random_util.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

constexpr char kUniform[] = "tensord_mrg_uniform";
constexpr char kBoxMuller[] = "tensord_box_muller";
constexpr char kBinomial[] = "tensord_binomial";
constexpr char kBinomialUniforms[] = "tensord_binomial_uniform_chunk";

TENSORD_BINOMIAL_STEP(inline)  // the uniforms a draw takes, as the host counts them

// mrg_uniform(state, size) -> (new state, u) and random_normal(state, size) -> (new state, z).
// A normal sample of n draws 2 * ceil(n / 2) uniforms (into scratch), as the host does.
class SamplingKernel final : public backends::Kernel {
 public:
  SamplingKernel(const char* op, ops::random::SampleAttrs attrs, bool normal,
                 std::shared_ptr<DeviceRuntime> device)
      : op_(op),
        attrs_(attrs),
        normal_(normal),
        kernels_(SamplingSource(attrs.dtype), {kUniform, kBoxMuller}),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const Tensor& state = *in[0];
    if (!in[1]->host_accessible()) return Internal(op_, "'s size is on a device");
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape,
                             cpu::sampling::ReadSize(*in[1], attrs_.ndim, op_));
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(ShapeSampleOutputs(state, shape, attrs_.dtype, new_state, sample, op_));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    const int64_t n = sample.num_elements();
    int64_t draws = normal_ ? n + n % 2 : n;
    Tensor uniforms;  // a normal's: freed when this returns, reused only by later work
    if (normal_) {
      runtime::ScopedMemoryContext on(sample.buffer()->counter());
      TENSORD_ASSIGN_OR_RETURN(uniforms, Tensor::Allocate(attrs_.dtype, {draws}));
    }
    // Every stream runs, drawing or not: it copies itself to the new state.
    const void* state_data = state.raw();
    int64_t row_stride = state.strides()[0], column_stride = state.strides()[1];
    void* new_state_data = new_state.raw();
    void* u_data = normal_ ? uniforms.raw() : sample.raw();
    int64_t streams = state.shape()[0];
    void* uniform_args[] = {&state_data, &row_stride, &column_stride, &new_state_data,
                            &u_data,     &draws,      &streams};
    TENSORD_RETURN_IF_ERROR(
        device_->Launch((*kernels)[0], GridFor(streams), kThreads, uniform_args));
    if (!normal_ || n == 0) return absl::OkStatus();
    void* z_data = sample.raw();
    int64_t count = n;
    void* normal_args[] = {&u_data, &z_data, &count};
    return device_->Launch((*kernels)[1], GridFor(draws / 2), kThreads, normal_args);
  }

 private:
  const char* const op_;
  const ops::random::SampleAttrs attrs_;
  const bool normal_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
};

// binomial's p, one value of any numeric dtype read on the host, as a double.
absl::StatusOr<double> HostProbability(const Tensor& t) {
  if (t.num_elements() != 1 || !t.host_accessible()) {
    return Internal("random_binomial's p is not one value on the host");
  }
  double value = 0;
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    using V = typename decltype(tag)::type;
    value = static_cast<double>(*t.data<V>());
    return absl::OkStatus();
  }));
  return value;
}

// random_binomial(state, size, n, p) of one n and one p: every draw takes the same number of
// uniforms (binomial_step.h: 0, 1 or n), so draw i's are uniforms [i * per_draw, ...) of the
// host's order. Chunk by chunk of draws, a thread per stream draws the chunk's uniforms in float64
// into scratch (from the state, then from the new state it left), then a thread per draw turns
// its block of them into its count by the host's algorithm.
class BinomialKernel final : public backends::Kernel {
 public:
  BinomialKernel(ops::random::SampleAttrs attrs, std::shared_ptr<DeviceRuntime> device)
      : attrs_(attrs),
        kernels_(BinomialSource(attrs.dtype), {kBinomialUniforms, kBinomial}),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_binomial";
    const Tensor& state = *in[0];
    if (!in[1]->host_accessible()) return Internal(op, "'s size is on a device");
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape,
                             cpu::sampling::ReadSize(*in[1], attrs_.ndim, op));
    if (!in[2]->host_accessible()) return Internal(op, "'s n is on a device");
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ops::ReadInt(*in[2], "random_binomial: n"));
    TENSORD_ASSIGN_OR_RETURN(double p, HostProbability(*in[3]));
    int64_t draws = runtime::NumElements(shape);
    int64_t per_draw = 0;
    if (draws > 0) {  // the host checks the parameters of each draw: of none, none
      TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckBinomialParams(n, p, op));
      per_draw = tensord_binomial_uniforms(n, p);
      if (per_draw > 1) {
        TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckDrawSteps(
            static_cast<double>(per_draw) * static_cast<double>(draws), op, "this n"));
      }
    }
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(ShapeSampleOutputs(state, shape, attrs_.dtype, new_state, sample, op));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    const int64_t chunk = per_draw == 0 ? std::max<int64_t>(draws, 1)
                                        : std::max<int64_t>(1, kMostScratchUniforms / per_draw);
    Tensor u;  // freed when this returns, reused only by later work
    {
      runtime::ScopedMemoryContext on(new_state.buffer()->counter());
      TENSORD_ASSIGN_OR_RETURN(
          u, Tensor::Allocate(DType::kFloat64, {std::min(chunk, draws) * per_draw}));
    }
    void* u_data = u.raw();
    void* k_data = sample.raw();
    // Every stream runs in every chunk (the first with none too), drawing or not: it carries
    // itself into the new state.
    for (int64_t first = 0; first == 0 || first < draws; first += chunk) {
      int64_t count = std::min(chunk, draws - first);
      TENSORD_RETURN_IF_ERROR(DrawUniforms(*device_, (*kernels)[0], state, new_state, u_data,
                                           first * per_draw, count * per_draw));
      if (count == 0) break;
      void* out_data = static_cast<char*>(k_data) + first * DTypeSize(attrs_.dtype);
      void* draw_args[] = {&u_data, &out_data, &count, &n, &p, &per_draw};
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[1], GridFor(count), kThreads, draw_args));
    }
    return absl::OkStatus();
  }

 private:
  const ops::random::SampleAttrs attrs_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
};

}  // namespace

absl::Status ShapeSampleOutputs(const Tensor& state, const runtime::Shape& shape, DType dtype,
                                Tensor& new_state, Tensor& sample, const char* op) {
  TENSORD_RETURN_IF_ERROR(cpu::CheckMrgState(state, op));
  if (state.host_accessible()) return Internal("the state of a CUDA kernel is in host memory");
  TENSORD_RETURN_IF_ERROR(new_state.Reshape(DType::kInt32, state.shape()));
  TENSORD_RETURN_IF_ERROR(sample.Reshape(dtype, shape));
  if (new_state.host_accessible() || sample.host_accessible()) {
    return Internal("the output of a CUDA kernel is in host memory");
  }
  return absl::OkStatus();
}

std::string UniformChunkSource(const std::string& name) {
  return absl::StrCat(
      TENSORD_MRG_STEP_SOURCE(__device__ inline), "\n",
      // Uniforms [first, first + count) of the host's order (uniform j from stream j % streams)
      // into u[0, count); each stream read from `state` and left in `new_state`.
      "extern \"C\" __global__ void ", name,
      "(const int* state, long long row_stride, long long column_stride, int* new_state,\n"
      "    double* u, long long first, long long count, long long streams) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long s = (long long)blockIdx.x * blockDim.x + threadIdx.x; s < streams;\n"
      "       s += step) {\n"
      "    int x[6];\n"
      "    for (int c = 0; c < 6; ++c) x[c] = state[s * row_stride + c * column_stride];\n"
      "    const long long lag = (s - first % streams + streams) % streams;\n"
      "    for (long long j = lag; j < count; j += streams)\n"
      "      u[j] = tensord_mrg_double(tensord_mrg_next(x));\n"
      "    for (int c = 0; c < 6; ++c) new_state[s * 6 + c] = x[c];\n"
      "  }\n"
      "}\n");
}

absl::Status DrawUniforms(DeviceRuntime& device, KernelHandle kernel, const Tensor& state,
                          Tensor& new_state, void* u, int64_t first, int64_t count) {
  const bool fresh = first == 0;  // the state given, through its strides; then the new one
  const void* from = fresh ? state.raw() : new_state.raw();
  int64_t row_stride = fresh ? state.strides()[0] : 6;
  int64_t column_stride = fresh ? state.strides()[1] : 1;
  int64_t streams = state.shape()[0];
  void* new_state_data = new_state.raw();
  void* u_data = u;
  void* args[] = {&from,   &row_stride, &column_stride, &new_state_data,
                  &u_data, &first,      &count,         &streams};
  return device.Launch(kernel, GridFor(streams), kThreads, args);
}

namespace {

// Of one n and one p, read on the host; else per element, on the device.
bool OfOneNAndP(const ir::Apply& node) {
  return node.inputs[2]->type.ndim() == 0 && node.inputs[3]->type.ndim() == 0;
}

}  // namespace

bool IsDeviceBinomial(const ir::Apply& node) {
  if (node.op != "random_binomial" || node.inputs.size() != 4 || node.outputs.size() != 2) {
    return false;
  }
  absl::StatusOr<ops::random::SampleAttrs> attrs = ops::random::ReadSampleAttrs(node, false);
  const DType n = node.inputs[2]->type.dtype, p = node.inputs[3]->type.dtype;
  // Per element, n and p are walked through at most kMostWriteDims dims.
  return attrs.ok() && !CudaCType(attrs->dtype).empty() &&
         (OfOneNAndP(node) || attrs->ndim <= kMostWriteDims) && IsInteger(n) &&
         !CudaCType(n).empty() && !CudaCType(p).empty();
}

std::vector<int> BinomialHostInputs(const ir::Apply& node) {
  if (!IsDeviceBinomial(node)) return {};
  return OfOneNAndP(node) ? std::vector<int>{1, 2, 3} : std::vector<int>{1};
}

std::string BinomialSource(DType dtype) {
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/random_kernels.cc).\n", "typedef ",
      CudaCType(dtype), " T;\n", UniformChunkSource(kBinomialUniforms),
      TENSORD_BINOMIAL_STEP_SOURCE(__device__ inline), "\n",
      // Draw i reads u[i * per_draw ...), in order.
      "struct tensord_uniforms {\n  const double* u;\n",
      "  __device__ double operator()() { return *u++; }\n};\n", "extern \"C\" __global__ void ",
      kBinomial,
      "(const double* u, T* out, long long draws, long long n, double p,\n"
      "    long long per_draw) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < draws;\n"
      "       i += step) {\n"
      "    tensord_uniforms next{u + i * per_draw};\n"
      "    out[i] = (T)tensord_binomial_draw(next, n, p);\n"
      "  }\n"
      "}\n");
}

bool IsDeviceSampling(const ir::Apply& node) {
  if (IsDeviceBinomial(node)) return true;
  if (node.op != "mrg_uniform" && node.op != "random_normal") return false;
  absl::StatusOr<ops::random::SampleAttrs> attrs = ops::random::ReadSampleAttrs(node, true);
  return attrs.ok() && FloatDType(attrs->dtype) && node.inputs.size() == 2 &&
         node.outputs.size() == 2;
}

std::string SamplingSource(DType dtype) {
  const bool single = dtype == DType::kFloat32;
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/random_kernels.cc).\n", "typedef ",
      CudaCType(dtype), " T;\n", TENSORD_MRG_STEP_SOURCE(__device__ inline), "\n",
      // Stream s (row s of the state, read through its strides) draws j = s, s + streams, ...
      "extern \"C\" __global__ void ", kUniform,
      "(const int* state, long long row_stride, long long column_stride, int* new_state, T* out,\n"
      "    long long n, long long streams) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long s = (long long)blockIdx.x * blockDim.x + threadIdx.x; s < streams;\n"
      "       s += step) {\n"
      "    int x[6];\n"
      "    for (int c = 0; c < 6; ++c) x[c] = state[s * row_stride + c * column_stride];\n"
      "    for (long long j = s; j < n; j += streams) out[j] = tensord_mrg_",
      single ? "float" : "double",
      "(tensord_mrg_next(x));\n"
      "    for (int c = 0; c < 6; ++c) new_state[s * 6 + c] = x[c];\n"
      "  }\n"
      "}\n",
      // Normals from 2 * half uniforms u1 | u2: (r cos t | r sin t)[:n], r = sqrt(-2 log u1),
      // t = 2 pi u2, in T as the host computes them (random.cc's NormalKernel).
      "extern \"C\" __global__ void ", kBoxMuller,
      "(const T* u, T* out, long long n) {\n"
      "  const long long half = (n + n % 2) / 2;\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < half;\n"
      "       i += step) {\n"
      "    const T r = sqrt(T(-2) * log(u[i]));\n"
      "    const T theta = T(6.283185307179586476925286766559) * u[half + i];\n"
      "    out[i] = r * cos(theta);\n"
      "    if (half + i < n) out[half + i] = r * sin(theta);\n"
      "  }\n"
      "}\n");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeSamplingKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (IsDeviceBinomial(node)) {
    TENSORD_ASSIGN_OR_RETURN(ops::random::SampleAttrs attrs,
                             ops::random::ReadSampleAttrs(node, false));
    if (!OfOneNAndP(node)) {
      return MakePerElementBinomialKernel(attrs, node.inputs[2]->type.dtype,
                                          node.inputs[3]->type.dtype, std::move(device));
    }
    return std::unique_ptr<backends::Kernel>(new BinomialKernel(attrs, std::move(device)));
  }
  if (!IsDeviceSampling(node)) return Unimplemented("op '", node.op, "' draws on the host only");
  TENSORD_ASSIGN_OR_RETURN(ops::random::SampleAttrs attrs,
                           ops::random::ReadSampleAttrs(node, true));
  const bool normal = node.op == "random_normal";
  return std::unique_ptr<backends::Kernel>(new SamplingKernel(
      normal ? "random_normal" : "mrg_uniform", attrs, normal, std::move(device)));
}

}  // namespace tensord::cuda
