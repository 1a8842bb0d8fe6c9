#include "engine/backends/cuda/provider/per_element_binomial.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/binomial_step.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/kernels/random_sampling.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/random_kernels.h"
#include "engine/common/dtype_dispatch.h"
#include "engine/common/status.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

constexpr char kUniforms[] = "tensord_binomial_uniforms_chunk";
constexpr char kCount[] = "tensord_binomial_count";
constexpr char kScan[] = "tensord_binomial_scan";
constexpr char kTotals[] = "tensord_binomial_totals";
constexpr char kDraws[] = "tensord_binomial_draws";
constexpr uint64_t kNone = ~uint64_t{0};

TENSORD_BINOMIAL_STEP(inline)  // the uniforms a draw takes, as the host counts them

// One element of `t` (on the device) at element `i` of `shape` (C order) through t's broadcast
// strides, copied down.
absl::StatusOr<Tensor> ElementOnHost(const Tensor& t, const runtime::Shape& shape, int64_t i) {
  const runtime::Strides strides = cpu::BroadcastStrides(t, shape);
  int64_t at = 0;
  for (int d = static_cast<int>(shape.size()) - 1; d >= 0; --d) {
    at += i % shape[d] * strides[d];
    i /= shape[d];
  }
  return runtime::OnHost(t.StridedView({}, {}, at));
}

// A numeric scalar on the host as `V`, as the host's cast would make it.
template <typename V>
absl::StatusOr<V> As(const Tensor& t) {
  V value{};
  TENSORD_RETURN_IF_ERROR(DispatchAll(t.dtype(), [&](auto tag) -> absl::Status {
    value = static_cast<V>(*t.data<typename decltype(tag)::type>());
    return absl::OkStatus();
  }));
  return value;
}

// The host's refusal of a call of too many steps: n and p copied down and the steps summed as
// the host sums them (the device's sums stop at 2^40).
absl::Status HostStepsError(const Tensor& trials, const Tensor& probs, const runtime::Shape& shape,
                            const char* op) {
  Tensor n64, p64;
  {
    runtime::ScopedMemoryContext on_host(runtime::HostWritable(runtime::CurrentMemoryCounter()));
    TENSORD_ASSIGN_OR_RETURN(Tensor n_host, runtime::OnHost(trials));
    TENSORD_ASSIGN_OR_RETURN(Tensor p_host, runtime::OnHost(probs));
    TENSORD_RETURN_IF_ERROR(cpu::CastInto(n_host, DType::kInt64, n64));
    TENSORD_RETURN_IF_ERROR(cpu::CastInto(p_host, DType::kFloat64, p64));
  }
  TENSORD_ASSIGN_OR_RETURN(auto n, cpu::sampling::BroadcastParam<int64_t>(n64, shape, op, "n"));
  TENSORD_ASSIGN_OR_RETURN(auto p, cpu::sampling::BroadcastParam<double>(p64, shape, op, "p"));
  double steps = 0;
  for (size_t i = 0; i < n.size(); ++i) {
    const int64_t uniforms = tensord_binomial_uniforms(n[i], p[i]);
    if (uniforms > 1) steps += static_cast<double>(uniforms);
  }
  TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckDrawSteps(steps, op, "this n"));
  return Internal(op, ": the device counted more steps than the host");
}

class PerElementBinomialKernel final : public backends::Kernel {
 public:
  PerElementBinomialKernel(ops::random::SampleAttrs attrs, DType n_dtype, DType p_dtype,
                           std::shared_ptr<DeviceRuntime> device)
      : attrs_(attrs),
        kernels_(
            PerElementBinomialSource(attrs.dtype, n_dtype, p_dtype, static_cast<int>(attrs.ndim)),
            {kUniforms, kCount, kScan, kTotals, kDraws}),
        device_(std::move(device)) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    const char* op = "random_binomial";
    if (!in[1]->host_accessible()) return Internal(op, "'s size is on a device");
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape,
                             cpu::sampling::ReadSize(*in[1], attrs_.ndim, op));
    const Tensor& trials = *in[2];
    const Tensor& probs = *in[3];
    for (const Tensor* t : {&trials, &probs}) {
      if (t->host_accessible() && t->num_elements() > 0) {
        return Internal(op, "'s n or p is in host memory");
      }
    }
    TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckBroadcastsTo(trials.shape(), shape, op, "n"));
    TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckBroadcastsTo(probs.shape(), shape, op, "p"));
    int64_t draws = runtime::NumElements(shape);
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    // Each lane's uniforms and O(n) steps, and the words read back: the first bad draw, the
    // uniforms in all, the steps in all.
    const Lanes lanes = LanesFor(draws);
    TENSORD_ASSIGN_OR_RETURN(Tensor counts, Tensor::Allocate(DType::kInt64, {lanes.lanes + 1}));
    TENSORD_ASSIGN_OR_RETURN(Tensor steps, Tensor::Allocate(DType::kInt64, {lanes.lanes + 1}));
    TENSORD_ASSIGN_OR_RETURN(Tensor words, Tensor::Allocate(DType::kUInt64, {3}));
    TENSORD_ASSIGN_OR_RETURN(Tensor report, DeviceWord(kNone, counts.buffer()->counter()));
    const runtime::Shape walked = shape.empty() ? runtime::Shape{1} : shape;
    std::vector<int64_t> params = {draws, lanes.lanes, lanes.chunk};
    params.insert(params.end(), walked.begin(), walked.end());
    for (const Tensor* t : {&trials, &probs}) {
      const runtime::Strides s = cpu::BroadcastStrides(*t, walked);
      params.insert(params.end(), s.begin(), s.end());
    }
    for (const void* p : {trials.raw(), probs.raw(), counts.raw(), steps.raw(), report.raw()}) {
      params.push_back(reinterpret_cast<int64_t>(p));
    }
    const size_t u_at = params.size();
    params.resize(u_at + 5, 0);  // the uniforms, the sample, the lanes and base of a run
    void* args[] = {params.data()};
    const int64_t lane_blocks = (lanes.lanes + kThreads - 1) / kThreads;
    if (draws > 0) {
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[1], lane_blocks, kThreads, args));
      int64_t lane_count = lanes.lanes;
      for (Tensor* t : {&counts, &steps}) {
        void* data = t->raw();
        void* scan_args[] = {&data, &lane_count};
        TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[2], 1, kScanThreads, scan_args));
      }
    }
    const void* counts_data = counts.raw();
    const void* steps_data = steps.raw();
    const void* report_data = report.raw();
    void* words_data = words.raw();
    int64_t lane_count = draws > 0 ? lanes.lanes : -1;  // none: the totals are 0
    void* total_args[] = {&counts_data, &steps_data, &report_data, &lane_count, &words_data};
    TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[3], 1, 1, total_args));
    TENSORD_ASSIGN_OR_RETURN(Tensor seen, runtime::OnHost(words));
    const uint64_t* w = seen.data<uint64_t>();
    if (w[0] != kNone) {  // the host's words for the first bad draw's parameters
      TENSORD_ASSIGN_OR_RETURN(Tensor n_bad, ElementOnHost(trials, shape, w[0]));
      TENSORD_ASSIGN_OR_RETURN(Tensor p_bad, ElementOnHost(probs, shape, w[0]));
      TENSORD_ASSIGN_OR_RETURN(int64_t n, As<int64_t>(n_bad));
      TENSORD_ASSIGN_OR_RETURN(double p, As<double>(p_bad));
      TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckBinomialParams(n, p, op));
      return Internal(op, ": the device refused draw ", w[0], "'s n ", n, " and p ", p);
    }
    if (static_cast<double>(w[2]) > cpu::sampling::kMaxDrawSteps) {
      return HostStepsError(trials, probs, shape, op);  // the host's count, in its words
    }
    const int64_t uniforms = static_cast<int64_t>(w[1]);
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(ShapeSampleOutputs(*in[0], shape, attrs_.dtype, new_state, sample, op));
    // Runs of lanes whose uniforms fit the scratch (a lane of more is a run of its own): one,
    // unless the lanes' first uniforms, read back, cut more.
    std::vector<int64_t> firsts = {0, uniforms};
    std::vector<int64_t> cuts = {0, lanes.lanes};
    if (uniforms > kMostScratchUniforms) {
      TENSORD_ASSIGN_OR_RETURN(Tensor first_host, runtime::OnHost(counts));
      const int64_t* first = first_host.data<int64_t>();
      firsts = {0};
      cuts = {0};
      for (int64_t l = 1; l <= lanes.lanes; ++l) {
        if (l == lanes.lanes || first[l + 1] - firsts.back() > kMostScratchUniforms) {
          cuts.push_back(l);
          firsts.push_back(first[l]);
        }
      }
    }
    int64_t most = 0;
    for (size_t k = 0; k + 1 < firsts.size(); ++k) most = std::max(most, firsts[k + 1] - firsts[k]);
    TENSORD_ASSIGN_OR_RETURN(Tensor u, Tensor::Allocate(DType::kFloat64, {most}));
    params[u_at] = reinterpret_cast<int64_t>(u.raw());
    params[u_at + 1] = draws > 0 ? reinterpret_cast<int64_t>(sample.raw()) : 0;
    for (size_t k = 0; k + 1 < cuts.size(); ++k) {
      TENSORD_RETURN_IF_ERROR(DrawUniforms(*device_, (*kernels)[0], *in[0], new_state, u.raw(),
                                           firsts[k], firsts[k + 1] - firsts[k]));
      if (draws == 0) continue;
      params[u_at + 2] = cuts[k];
      params[u_at + 3] = cuts[k + 1];
      params[u_at + 4] = firsts[k];
      const int64_t blocks = (cuts[k + 1] - cuts[k] + kThreads - 1) / kThreads;
      TENSORD_RETURN_IF_ERROR(device_->Launch((*kernels)[4], blocks, kThreads, args));
    }
    return absl::OkStatus();
  }

 private:
  const ops::random::SampleAttrs attrs_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
};

}  // namespace

std::string PerElementBinomialSource(DType dtype, DType n_dtype, DType p_dtype, int rank) {
  const int r = std::max(rank, 1);
  const std::string lane_walk =
      "  for (long long i = begin; i < end; ++i) {\n"
      "    const long long n = (long long)p.trials[tensord_offset(i, p.shape, p.n_strides)];\n"
      "    const double q = (double)p.probs[tensord_offset(i, p.shape, p.p_strides)];\n";
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/per_element_binomial.cc).\n",
      "typedef ", CudaCType(dtype), " T;\ntypedef ", CudaCType(n_dtype), " N;\ntypedef ",
      CudaCType(p_dtype), " P;\n", UniformChunkSource(kUniforms),
      TENSORD_BINOMIAL_STEP_SOURCE(__device__ inline), "\n", OffsetSource(r), LaneScanSource(kScan),
      "struct tensord_uniforms {\n  const double* u;\n",
      "  __device__ double operator()() { return *u++; }\n};\n",
      "struct tensord_binomial_params {\n  long long n, lanes, chunk;\n  long long shape[", r,
      "], n_strides[", r, "], p_strides[", r,
      "];\n  const N* trials;\n  const P* probs;\n  long long* counts;\n  long long* steps;\n"
      "  unsigned long long* report;\n  const double* u;\n  T* out;\n",
      "  long long lane0, lane1, base;  // the draws' lanes, and their first uniform\n};\n\n",
      // Each lane checks its draws' parameters as the host does and counts their uniforms, and
      // the steps of those that take n.
      "extern \"C\" __global__ void ", kCount, "(const tensord_binomial_params p) {\n",
      LaneRangeSource(), "  long long count = 0, steps = 0;\n", lane_walk,
      "    if (!(n >= 0 && q >= 0.0 && q <= 1.0)) {\n",
      "      atomicMin(p.report, (unsigned long long)i);\n      continue;\n    }\n",
      // Sums held at 2^40 at most, so no n a client sends wraps them: a call past 2^30 steps
      // is refused, and 2^40 is more than the uniforms of a lane's draws below that.
      "    const long long most = 1LL << 40;\n",
      "    const long long all = tensord_binomial_uniforms(n, q);\n",
      "    const long long k = all < most ? all : most;\n",
      "    count = count + k < most ? count + k : most;\n",
      "    if (k > 1) steps = steps + k < most ? steps + k : most;\n  }\n",
      "  p.counts[lane] = count;\n  p.steps[lane] = steps;\n}\n\n",
      // One thread gathers the words the host reads: the report and the two totals (none: 0).
      "extern \"C\" __global__ void ", kTotals,
      "(const long long* counts, const long long* steps, const unsigned long long* report,\n"
      "    long long lanes, unsigned long long* words) {\n"
      "  words[0] = *report;\n"
      "  words[1] = lanes < 0 ? 0 : (unsigned long long)counts[lanes];\n"
      "  words[2] = lanes < 0 ? 0 : (unsigned long long)steps[lanes];\n}\n\n",
      // Each lane of [lane0, lane1) draws in order from its first uniform on (u holding those
      // from base on).
      "extern \"C\" __global__ void ", kDraws, "(const tensord_binomial_params p) {\n",
      LaneRangeSource("p.lane0", "p.lane1"),
      "  tensord_uniforms next{p.u + (p.counts[lane] - p.base)};\n", lane_walk,
      "    p.out[i] = (T)tensord_binomial_draw(next, n, q);\n  }\n}\n");
}

std::unique_ptr<backends::Kernel> MakePerElementBinomialKernel(
    ops::random::SampleAttrs attrs, DType n_dtype, DType p_dtype,
    std::shared_ptr<DeviceRuntime> device) {
  return std::make_unique<PerElementBinomialKernel>(attrs, n_dtype, p_dtype, std::move(device));
}

}  // namespace tensord::cuda
