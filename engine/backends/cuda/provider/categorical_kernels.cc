#include "engine/backends/cuda/provider/categorical_kernels.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/backends/cpu/broadcast.h"
#include "engine/backends/cpu/cast.h"
#include "engine/backends/cpu/categorical_step.h"
#include "engine/backends/cpu/kernels/random_sampling.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/backends/cuda/provider/program_kernels.h"
#include "engine/backends/cuda/provider/random_kernels.h"
#include "engine/backends/cuda/provider/view_writes.h"
#include "engine/common/status.h"
#include "engine/ops/defs/int_args.h"
#include "engine/ops/defs/random_util.h"

namespace tensord::cuda {
namespace {

using runtime::Tensor;

constexpr char kUniforms[] = "tensord_categorical_uniforms";
constexpr char kCheckRows[] = "tensord_check_rows";
constexpr char kMultinomial[] = "tensord_multinomial";
constexpr char kChoice[] = "tensord_choice";
constexpr char kPermutation[] = "tensord_permutation";
constexpr char kChoiceEach[] = "tensord_choice_each";
constexpr char kRowTotals[] = "tensord_row_totals";
constexpr uint64_t kNoRow = ~uint64_t{0};

// A run of a multinomial's trials [c0, c1) in the host's walk (trial by trial over the rows),
// whose uniforms are contiguous in its order.
struct TrialRun {
  int64_t c0 = 0, c1 = 0, uniforms = 0;
};

// The walk over rows of `trials` cut into runs of at most `most` uniforms (a trial over more
// rows than that is a run of its own); one empty run where there are no trials.
std::vector<TrialRun> TrialRuns(std::vector<int64_t> trials, int64_t most) {
  std::sort(trials.begin(), trials.end());
  const int64_t rows = static_cast<int64_t>(trials.size());
  const int64_t last = trials.empty() ? 0 : std::max<int64_t>(trials.back(), 0);
  std::vector<TrialRun> runs;
  TrialRun run;
  size_t done = 0;  // rows with no trial at c or after
  for (int64_t c = 0; c < last;) {
    while (done < trials.size() && trials[done] <= c) ++done;
    const int64_t active = rows - static_cast<int64_t>(done);  // the same up to trials[done]
    int64_t take = std::min(trials[done] - c, (most - run.uniforms) / active);
    if (take <= 0 && run.uniforms > 0) {
      run.c1 = c;
      runs.push_back(run);
      run = TrialRun{c, c, 0};
      continue;
    }
    take = std::max<int64_t>(take, 1);
    run.uniforms += take * active;
    c += take;
    run.c1 = c;
  }
  if (run.uniforms > 0 || runs.empty()) runs.push_back(run);
  return runs;
}

// Where a run's uniforms go where rows have trials of their own: row r's trials of the run at
// first[r] of `order`, which holds each one's uniform in the run, as the host's walk reaches it;
// built on the host, copied to `device`.
absl::StatusOr<std::pair<Tensor, Tensor>> MapRun(const std::vector<int64_t>& trials,
                                                 const TrialRun& run,
                                                 runtime::MemoryCounter* device) {
  const int64_t rows = static_cast<int64_t>(trials.size());
  Tensor first, order;
  {
    runtime::ScopedMemoryContext on_host(runtime::HostWritable(device));
    first = Tensor(DType::kInt64, {rows});
    TENSORD_ASSIGN_OR_RETURN(order, Tensor::Allocate(DType::kInt64, {run.uniforms}));
  }
  int64_t next = 0;
  for (int64_t r = 0; r < rows; ++r) {
    first.data<int64_t>()[r] = next;
    next += std::clamp<int64_t>(trials[r] - run.c0, 0, run.c1 - run.c0);
  }
  int64_t j = 0;
  for (int64_t c = run.c0; c < run.c1; ++c) {
    for (int64_t r = 0; r < rows; ++r) {
      if (c < trials[r]) order.data<int64_t>()[first.data<int64_t>()[r] + c - run.c0] = j++;
    }
  }
  TENSORD_ASSIGN_OR_RETURN(Tensor first_up, runtime::IntoContext(std::move(first), device));
  TENSORD_ASSIGN_OR_RETURN(Tensor order_up, runtime::IntoContext(std::move(order), device));
  return std::make_pair(std::move(first_up), std::move(order_up));
}

// One categorical op's draws (categorical_kernels.h).
class CategoricalKernel final : public backends::Kernel {
  using Kernels = std::vector<KernelHandle>;  // CategoricalSource's, compiled, in order

 public:
  CategoricalKernel(std::string op, ops::random::SampleAttrs attrs, bool replace, double tol,
                    DType probabilities, DType population, std::shared_ptr<DeviceRuntime> device)
      : op_(std::move(op)),
        attrs_(attrs),
        replace_(replace),
        tol_(tol),
        kernels_(
            CategoricalSource(attrs.dtype, population),
            {kUniforms, kCheckRows, kMultinomial, kChoice, kPermutation, kChoiceEach, kRowTotals}),
        device_(std::move(device)),
        to_float64_(DType::kFloat64, probabilities, false),
        counts_to_sample_(attrs.dtype, DType::kInt64, false) {}

  absl::Status Run(std::span<const Tensor* const> in, std::span<Tensor* const> out) override {
    if (!in[1]->host_accessible()) return Internal(op_, "'s size is on a device");
    TENSORD_ASSIGN_OR_RETURN(runtime::Shape shape,
                             cpu::sampling::ReadSize(*in[1], attrs_.ndim, op_.c_str()));
    TENSORD_ASSIGN_OR_RETURN(const std::vector<KernelHandle>* kernels, kernels_.Get(*device_));
    if (op_ == "random_multinomial") return Multinomial(*kernels, shape, in, out);
    if (op_ == "random_choice") return Choice(*kernels, shape, in, out);
    return Permutation(*kernels, shape, in, out);
  }

 private:
  // `probabilities` (on the device) broadcast to `shape` (rows x len, C order) as float64, as
  // the host casts them; and the first of its rows that is not probabilities summing to 1 (-1
  // for none), checked on the device.
  absl::StatusOr<std::pair<Tensor, int64_t>> AsCheckedFloat64(const Kernels& kernels,
                                                              const Tensor& probabilities,
                                                              const runtime::Shape& shape,
                                                              int64_t rows, int64_t len) {
    TENSORD_ASSIGN_OR_RETURN(Tensor p, Tensor::Allocate(DType::kFloat64, shape));
    TENSORD_RETURN_IF_ERROR(to_float64_.Run(*device_, p, probabilities));
    if (rows == 0 || len == 0) return std::make_pair(std::move(p), int64_t{-1});
    TENSORD_ASSIGN_OR_RETURN(Tensor report, DeviceWord(kNoRow, p.buffer()->counter()));
    const void* p_data = p.raw();
    void* report_data = report.raw();
    double tol = tol_;
    void* args[] = {&p_data, &rows, &len, &tol, &report_data};
    TENSORD_RETURN_IF_ERROR(device_->Launch(kernels[1], GridFor(rows), kThreads, args));
    TENSORD_ASSIGN_OR_RETURN(Tensor seen, runtime::OnHost(report));
    const uint64_t row = *seen.data<uint64_t>();
    return std::make_pair(std::move(p), row == kNoRow ? int64_t{-1} : static_cast<int64_t>(row));
  }

  // The host's words for row `r` of `p` (rows of `len`), which the device found wrong.
  absl::Status RowError(const Tensor& p, int64_t r, int64_t len, const char* what) {
    TENSORD_ASSIGN_OR_RETURN(Tensor row, runtime::OnHost(p.StridedView({len}, {1}, r * len)));
    absl::StatusOr<double> checked =
        cpu::sampling::CheckProbabilities(row.data<double>(), len, tol_, op_.c_str(), what);
    if (checked.ok()) return Internal(op_, ": the device refused row ", r, " of ", what);
    return checked.status();
  }

  // The call's uniforms, `count` of them in the host's order, drawn into scratch from the state
  // (in[0]) as the new state (out[0]) is written.
  absl::StatusOr<Tensor> Uniforms(const Kernels& kernels, const Tensor& state, Tensor& new_state,
                                  int64_t count) {
    TENSORD_ASSIGN_OR_RETURN(Tensor u, Tensor::Allocate(DType::kFloat64, {count}));
    TENSORD_RETURN_IF_ERROR(
        DrawUniforms(*device_, kernels[0], state, new_state, u.raw(), 0, count));
    return u;
  }

  // random_multinomial(state, size, n, pvals): counts of shape size + (L,).
  absl::Status Multinomial(const Kernels& kernels, const runtime::Shape& shape,
                           std::span<const Tensor* const> in, std::span<Tensor* const> out) {
    const char* op = op_.c_str();
    if (!in[2]->host_accessible()) return Internal(op, "'s n is on a device");
    Tensor n64;  // the host casts n to int64 first
    {
      runtime::ScopedMemoryContext on_host(runtime::HostWritable(runtime::CurrentMemoryCounter()));
      TENSORD_RETURN_IF_ERROR(cpu::CastInto(*in[2], DType::kInt64, n64));
    }
    TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> trials,
                             cpu::sampling::BroadcastParam<int64_t>(n64, shape, op, "n"));
    const Tensor& pvals = *in[3];
    const int64_t len = pvals.shape().back();
    runtime::Shape out_shape = shape;
    out_shape.push_back(len);
    TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements(out_shape, 8).status());
    TENSORD_RETURN_IF_ERROR(
        cpu::sampling::CheckBroadcastsTo(pvals.shape(), out_shape, op, "pvals"));
    int64_t rows = static_cast<int64_t>(trials.size());
    TENSORD_ASSIGN_OR_RETURN(auto checked, AsCheckedFloat64(kernels, pvals, out_shape, rows, len));
    const auto& [p, bad_row] = checked;
    // The host checks row by row, its n first: the first row with either error names it.
    const auto negative =
        std::find_if(trials.begin(), trials.end(), [](int64_t t) { return t < 0; });
    const int64_t negative_row = negative == trials.end() ? -1 : negative - trials.begin();
    if (negative_row >= 0 && (bad_row < 0 || negative_row <= bad_row)) {
      return InvalidArgument(op, ": n must be >= 0, got ", *negative);
    }
    if (bad_row >= 0) return RowError(p, bad_row, len, "pvals");
    int64_t max_trials = 0;
    double steps = 0;  // category walks
    for (int64_t t : trials) {
      max_trials = std::max(max_trials, t);
      steps += static_cast<double>(t) * static_cast<double>(len);
    }
    TENSORD_RETURN_IF_ERROR(cpu::sampling::CheckDrawSteps(steps, op, "this n"));
    if (len == 0 && max_trials > 0) {
      return InvalidArgument(op, ": pvals has no categories to draw ", max_trials, " trials from");
    }
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(
        ShapeSampleOutputs(*in[0], out_shape, attrs_.dtype, new_state, sample, op));
    // Trial by trial over the rows, as the host walks them, in runs of trials whose uniforms fit
    // the scratch: trial c of row r takes uniform (c - c0) * rows + r of its run where every row
    // has as many trials; else the one the walk reaches, mapped on the host per run (row r's
    // trials of the run at first[r]).
    const bool same =
        std::all_of(trials.begin(), trials.end(), [&](int64_t t) { return t == trials[0]; });
    int64_t same_trials = same && rows > 0 ? trials[0] : -1;
    runtime::MemoryCounter* device =
        sample.buffer() != nullptr ? sample.buffer()->counter() : new_state.buffer()->counter();
    Tensor trials_up;
    if (!same) {
      Tensor t_host;
      {
        runtime::ScopedMemoryContext on_host(runtime::HostWritable(device));
        t_host = Tensor(DType::kInt64, {rows});
      }
      std::copy(trials.begin(), trials.end(), t_host.data<int64_t>());
      TENSORD_ASSIGN_OR_RETURN(trials_up, runtime::IntoContext(std::move(t_host), device));
    }
    const std::vector<TrialRun> runs = TrialRuns(trials, kMostScratchUniforms);
    int64_t most = 0;
    for (const TrialRun& run : runs) most = std::max(most, run.uniforms);
    TENSORD_ASSIGN_OR_RETURN(Tensor u, Tensor::Allocate(DType::kFloat64, {most}));
    TENSORD_ASSIGN_OR_RETURN(Tensor counts, Tensor::Allocate(DType::kInt64, out_shape));
    int64_t first_uniform = 0;
    for (const TrialRun& run : runs) {
      TENSORD_RETURN_IF_ERROR(DrawUniforms(*device_, kernels[0], *in[0], new_state, u.raw(),
                                           first_uniform, run.uniforms));
      first_uniform += run.uniforms;
      if (sample.num_elements() == 0) continue;
      Tensor first_up, order_up;
      if (!same) {
        TENSORD_ASSIGN_OR_RETURN(std::tie(first_up, order_up), MapRun(trials, run, device));
      }
      const void* p_data = p.raw();
      const void* u_data = u.raw();
      const void* t_data = same ? nullptr : trials_up.raw();
      const void* f_data = same ? nullptr : first_up.raw();
      const void* o_data = same ? nullptr : order_up.raw();
      void* counts_data = counts.raw();
      int64_t length = len, c0 = run.c0, c1 = run.c1;
      void* args[] = {&p_data,      &u_data, &rows,   &length, &c0,         &c1,
                      &same_trials, &t_data, &f_data, &o_data, &counts_data};
      TENSORD_RETURN_IF_ERROR(device_->Launch(kernels[2], GridFor(rows), kThreads, args));
    }
    if (sample.num_elements() == 0) return absl::OkStatus();
    return counts_to_sample_.Run(*device_, sample, counts);
  }

  // random_choice(state, size, a, p): numpy.random.choice's draws, one set per row of a matrix p.
  absl::Status Choice(const Kernels& kernels, const runtime::Shape& shape,
                      std::span<const Tensor* const> in, std::span<Tensor* const> out) {
    const char* op = op_.c_str();
    const Tensor& a = *in[2];
    const Tensor& p_in = *in[3];
    int64_t pop = a.num_elements();
    if (a.ndim() == 0) {
      if (!a.host_accessible()) return Internal(op, "'s population size is on a device");
      TENSORD_ASSIGN_OR_RETURN(pop, ops::ReadInt(a, "a"));
    }
    const bool per_row = p_in.ndim() == 2;
    const bool weighted = per_row || p_in.num_elements() > 0;
    int64_t rows = per_row ? p_in.shape()[0] : 1;
    if (weighted && p_in.shape().back() != pop) {
      return InvalidArgument(op, ": a and p must have the same size (", pop, " and ",
                             p_in.shape().back(), ")");
    }
    Tensor p;
    if (weighted) {
      TENSORD_ASSIGN_OR_RETURN(auto checked,
                               AsCheckedFloat64(kernels, p_in, p_in.shape(), rows, pop));
      if (checked.second >= 0) return RowError(checked.first, checked.second, pop, "p");
      p = std::move(checked.first);
    }
    runtime::Shape out_shape = shape;
    if (per_row) out_shape.insert(out_shape.begin(), rows);
    TENSORD_ASSIGN_OR_RETURN(int64_t total, runtime::CheckedNumElements(out_shape, 8));
    int64_t k = rows == 0 ? 0 : total / rows;
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(
        ShapeSampleOutputs(*in[0], out_shape, attrs_.dtype, new_state, sample, op));
    // What the host's draws check for each row (all rows alike, so the first's words).
    const bool drawing = rows > 0 && k > 0;
    if (drawing && pop <= 0) {
      return InvalidArgument(op, ": a must be greater than 0 unless no samples are taken");
    }
    if (drawing && !replace_ && k > pop) {
      return InvalidArgument(op, ": cannot take a larger sample (", k, ") than the population (",
                             pop, ") when replace=False");
    }
    if (drawing && !replace_ && !weighted) {  // the shuffle's pool
      TENSORD_RETURN_IF_ERROR(runtime::CheckedNumElements({pop}, 8).status());
    }
    if (drawing && !replace_ && weighted) {
      TENSORD_RETURN_IF_ERROR(
          cpu::sampling::CheckDrawSteps(static_cast<double>(k) * static_cast<double>(pop), op,
                                        "weighted sampling without replacement"));
    }
    TENSORD_ASSIGN_OR_RETURN(Tensor u, Uniforms(kernels, *in[0], new_state, total));
    if (!drawing) return absl::OkStatus();
    const void* p_data = weighted ? p.raw() : nullptr;
    const void* a_data = a.ndim() == 0 ? nullptr : a.raw();
    int64_t a_stride = a.ndim() == 0 ? 0 : a.strides()[0];
    const void* u_data = u.raw();
    void* sample_data = sample.raw();
    if (replace_) {  // every draw on its own: a thread each, after each row's total
      TENSORD_ASSIGN_OR_RETURN(Tensor totals, Tensor::Allocate(DType::kFloat64, {rows}));
      void* totals_data = totals.raw();
      if (weighted) {
        void* total_args[] = {&p_data, &rows, &pop, &totals_data};
        TENSORD_RETURN_IF_ERROR(device_->Launch(kernels[6], GridFor(rows), kThreads, total_args));
      }
      void* args[] = {&p_data, &a_data, &a_stride,    &u_data,     &rows,
                      &k,      &pop,    &totals_data, &sample_data};
      return device_->Launch(kernels[5], GridFor(total), kThreads, args);
    }
    // Without replacement, a thread per row: its indices, and its pool (a shuffle's) or weights
    // (a weighted draw's).
    const runtime::Shape per_population = {rows, pop};
    TENSORD_ASSIGN_OR_RETURN(Tensor indices, Tensor::Allocate(DType::kInt64, {rows, k}));
    TENSORD_ASSIGN_OR_RETURN(
        Tensor pool,
        Tensor::Allocate(DType::kInt64, weighted ? runtime::Shape{0} : per_population));
    TENSORD_ASSIGN_OR_RETURN(
        Tensor weights,
        Tensor::Allocate(DType::kFloat64, weighted ? per_population : runtime::Shape{0}));
    TENSORD_ASSIGN_OR_RETURN(Tensor report, DeviceWord(kNoRow, sample.buffer()->counter()));
    void* indices_data = indices.raw();
    void* pool_data = pool.num_elements() > 0 ? pool.raw() : nullptr;
    void* weights_data = weights.num_elements() > 0 ? weights.raw() : nullptr;
    void* report_data = report.raw();
    void* args[] = {&p_data, &a_data,       &a_stride,  &u_data,       &rows,        &k,
                    &pop,    &indices_data, &pool_data, &weights_data, &sample_data, &report_data};
    TENSORD_RETURN_IF_ERROR(device_->Launch(kernels[3], GridFor(rows), kThreads, args));
    if (!weighted) return absl::OkStatus();
    TENSORD_ASSIGN_OR_RETURN(Tensor seen, runtime::OnHost(report));
    if (*seen.data<uint64_t>() != kNoRow) {
      return InvalidArgument(op, ": fewer non-zero entries in p than size (", k, ")");
    }
    return absl::OkStatus();
  }

  // random_permutation(state, size, n): a permutation of range(n) per element of size.
  absl::Status Permutation(const Kernels& kernels, runtime::Shape shape,
                           std::span<const Tensor* const> in, std::span<Tensor* const> out) {
    const char* op = op_.c_str();
    if (!in[2]->host_accessible()) return Internal(op, "'s n is on a device");
    TENSORD_ASSIGN_OR_RETURN(int64_t n, ops::ReadInt(*in[2], "random_permutation: n"));
    if (n < 0) return InvalidArgument(op, ": n must be >= 0, got ", n);
    shape.push_back(n);
    TENSORD_ASSIGN_OR_RETURN(int64_t total, runtime::CheckedNumElements(shape, 8));
    Tensor& new_state = *out[0];
    Tensor& sample = *out[1];
    TENSORD_RETURN_IF_ERROR(ShapeSampleOutputs(*in[0], shape, attrs_.dtype, new_state, sample, op));
    int64_t rows = n == 0 ? 0 : total / n;
    TENSORD_ASSIGN_OR_RETURN(
        Tensor u, Uniforms(kernels, *in[0], new_state, rows * std::max<int64_t>(n - 1, 0)));
    if (total == 0) return absl::OkStatus();
    const void* u_data = u.raw();
    void* sample_data = sample.raw();
    void* args[] = {&u_data, &rows, &n, &sample_data};
    return device_->Launch(kernels[4], GridFor(rows), kThreads, args);
  }

  const std::string op_;
  const ops::random::SampleAttrs attrs_;
  const bool replace_;
  const double tol_;
  KernelsOnce kernels_;
  const std::shared_ptr<DeviceRuntime> device_;
  StridedWrite to_float64_;        // probabilities as the host casts them
  StridedWrite counts_to_sample_;  // multinomial's int64 counts into the sample's dtype
};

}  // namespace

bool IsDeviceCategorical(const ir::Apply& node) {
  const bool multinomial = node.op == "random_multinomial", choice = node.op == "random_choice";
  if (!multinomial && !choice && node.op != "random_permutation") return false;
  if (node.inputs.size() != (multinomial || choice ? 4u : 3u) || node.outputs.size() != 2) {
    return false;
  }
  absl::StatusOr<ops::random::SampleAttrs> attrs = ops::random::ReadSampleAttrs(node, false);
  if (!attrs.ok() || CudaCType(attrs->dtype).empty() || attrs->ndim + 1 > kMostWriteDims) {
    return false;
  }
  if (!multinomial && !choice) return true;
  if (!FloatDType(node.inputs[3]->type.dtype)) return false;  // the probabilities
  if (!choice || node.inputs[2]->type.ndim() == 0) return true;
  const DType population = node.inputs[2]->type.dtype;
  return !CudaCType(population).empty() && !GpuConvertsOtherwise(population, attrs->dtype);
}

std::vector<int> CategoricalHostInputs(const ir::Apply& node) {
  if (!IsDeviceCategorical(node)) return {};
  if (node.op == "random_choice" && node.inputs[2]->type.ndim() == 1) return {1};
  return {1, 2};
}

std::string CategoricalSource(DType sample, DType population) {
  return absl::StrCat(
      "// Generated by tensord (engine/backends/cuda/provider/categorical_kernels.cc).\n",
      "typedef ", CudaCType(sample), " T;\ntypedef ", CudaCType(population), " A;\n",
      UniformChunkSource(kUniforms), TENSORD_CATEGORICAL_STEP_SOURCE(__device__ inline), "\n",
      "struct tensord_next_uniform {\n  const double* u;\n",
      "  __device__ double operator()() { return *u++; }\n};\n",
      // The first row of `rows` x `len` that is not probabilities summing to 1, into report.
      "extern \"C\" __global__ void ", kCheckRows,
      "(const double* p, long long rows, long long len, double tol,\n"
      "    unsigned long long* report) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += "
      "step) {\n"
      "    double sum;\n"
      "    if (tensord_probabilities_error(p + r * len, len, tol, &sum) >= 0)\n"
      "      atomicMin(report, (unsigned long long)r);\n"
      "  }\n}\n",
      // A thread per row counts its categories of a run of trials [c0, c1) (from 0 when c0 is 0):
      // trial c's uniform (c - c0) * rows + r of the run's, or u[order[first[r] + c - c0]] where
      // rows have trials[r] each.
      "extern \"C\" __global__ void ", kMultinomial,
      "(const double* p, const double* u, long long rows, long long len, long long c0,\n"
      "    long long c1, long long same_trials, const long long* trials,\n"
      "    const long long* first, const long long* order, long long* counts) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += "
      "step) {\n"
      "    const double* row = p + r * len;\n"
      "    long long* count = counts + r * len;\n"
      "    double total = 0;\n"
      "    for (long long m = 0; m < len; ++m) {\n"
      "      if (c0 == 0) count[m] = 0;\n      total += row[m];\n"
      "    }\n"
      "    const long long n = same_trials >= 0 ? same_trials : trials[r];\n"
      "    for (long long c = c0; c < n && c < c1; ++c) {\n"
      "      const double x = same_trials >= 0 ? u[(c - c0) * rows + r]\n"
      "                                        : u[order[first[r] + c - c0]];\n"
      "      ++count[tensord_pick_category(row, len, x, total)];\n"
      "    }\n  }\n}\n",
      // Without replacement, a thread per row draws its k indices from uniforms r * k on, then
      // writes a[index] (or the index); by weight, a row of fewer nonzero weights than k is
      // reported instead.
      "extern \"C\" __global__ void ", kChoice,
      "(const double* p, const A* a, long long a_stride, const double* u,\n"
      "    long long rows, long long k, long long pop, long long* indices,\n"
      "    long long* pool, double* weights, T* out, unsigned long long* report) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += "
      "step) {\n"
      "    const double* row = p ? p + r * pop : 0;\n"
      "    if (row) {\n"
      "      long long nonzero = 0;\n"
      "      for (long long m = 0; m < pop; ++m) nonzero += row[m] > 0 ? 1 : 0;\n"
      "      if (nonzero < k) {\n        atomicMin(report, (unsigned long long)r);\n"
      "        continue;\n      }\n    }\n"
      "    tensord_next_uniform next{u + r * k};\n"
      "    long long* chosen = indices + r * k;\n"
      "    tensord_choose(next, pop, row, false, k, chosen, pool ? pool + r * pop : 0,\n"
      "                   weights ? weights + r * pop : 0);\n"
      "    for (long long i = 0; i < k; ++i)\n"
      "      out[r * k + i] = a ? (T)a[chosen[i] * a_stride] : (T)chosen[i];\n"
      "  }\n}\n",
      // With replacement, a thread per draw i (row i / k): uniform i picks an index of the
      // population, by weight against its row's total (summed in order, a thread per row, as
      // tensord_choose sums it) or as tensord_below does.
      "extern \"C\" __global__ void ", kRowTotals,
      "(const double* p, long long rows, long long pop, double* totals) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += "
      "step) {\n"
      "    double total = 0;\n"
      "    for (long long m = 0; m < pop; ++m) total += p[r * pop + m];\n"
      "    totals[r] = total;\n  }\n}\n",
      "extern \"C\" __global__ void ", kChoiceEach,
      "(const double* p, const A* a, long long a_stride, const double* u,\n"
      "    long long rows, long long k, long long pop, const double* totals, T* out) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < rows * k; "
      "i += step) {\n"
      "    const long long r = i / k;\n"
      "    const long long j = p ? tensord_pick_category(p + r * pop, pop, u[i], totals[r])\n"
      "                          : tensord_below(u[i], pop);\n"
      "    out[i] = a ? (T)a[j * a_stride] : (T)j;\n  }\n}\n",
      // A thread per row shuffles range(n) from uniforms r * (n - 1) on.
      "extern \"C\" __global__ void ", kPermutation,
      "(const double* u, long long rows, long long n, T* out) {\n"
      "  const long long step = (long long)blockDim.x * gridDim.x;\n"
      "  for (long long r = (long long)blockIdx.x * blockDim.x + threadIdx.x; r < rows; r += "
      "step) {\n"
      "    tensord_next_uniform next{u + r * (n - 1)};\n"
      "    tensord_permute(next, n, out + r * n);\n"
      "  }\n}\n");
}

absl::StatusOr<std::unique_ptr<backends::Kernel>> MakeCategoricalKernel(
    const ir::Apply& node, std::shared_ptr<DeviceRuntime> device) {
  if (!IsDeviceCategorical(node)) return Unimplemented("op '", node.op, "' draws on the host only");
  TENSORD_ASSIGN_OR_RETURN(ops::random::SampleAttrs attrs,
                           ops::random::ReadSampleAttrs(node, false));
  bool replace = true;
  if (node.op == "random_choice") {
    TENSORD_ASSIGN_OR_RETURN(replace, ir::GetAttr<bool>(node, "replace"));
  }
  const bool with_probabilities = node.op != "random_permutation";
  const DType probabilities = with_probabilities ? node.inputs[3]->type.dtype : DType::kFloat64;
  const double tol = ops::random::SumTolerance(probabilities);
  const DType population = node.op == "random_choice" && node.inputs[2]->type.ndim() == 1
                               ? node.inputs[2]->type.dtype
                               : attrs.dtype;
  return std::unique_ptr<backends::Kernel>(new CategoricalKernel(
      node.op, attrs, replace, tol, probabilities, population, std::move(device)));
}

}  // namespace tensord::cuda
