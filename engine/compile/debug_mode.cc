#include "engine/compile/debug_mode.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "engine/backends/cpu/broadcast.h"
#include "engine/frontend/verifier.h"

namespace tensord::compile {
namespace {

std::string Number(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

// Rewrites replace variables with ReplaceAllUses, which updates graph outputs but not the
// (target, value) pairs of updates. While passes run, update values and shared variables ride
// along as extra graph outputs, so they follow replacements and no dead-code step drops them.
class Replay {
 public:
  explicit Replay(PreparedFunction p) : p_(std::move(p)), outputs_(p_.graph->outputs().size()) {
    auto& outs = p_.graph->outputs();
    for (const auto& [target, value] : p_.updates) outs.push_back(value);
    for (const ir::Variable* s : p_.canonical.shared) outs.push_back(const_cast<ir::Variable*>(s));
  }

  absl::StatusOr<bool> Step(passes::Pass& pass) {
    absl::StatusOr<bool> changed = pass.Run(*p_.graph);
    if (!changed.ok()) {
      return absl::Status(changed.status().code(), absl::StrCat("optimizer pass '", pass.name(),
                                                                "': ", changed.status().message()));
    }
    auto& outs = p_.graph->outputs();
    for (size_t i = 0; i < p_.updates.size(); ++i) p_.updates[i].second = outs[outputs_ + i];
    if (absl::Status s = ir::Verify(*p_.graph); !s.ok()) {
      return Internal("DebugMode: optimizer pass '", pass.name(),
                      "' left an invalid graph: ", s.message());
    }
    return *changed;
  }

  // A standalone function of the current graph: outputs restored, updates re-pointed, dead
  // nodes dropped (a pass may leave them; they would still run).
  PreparedFunction Snapshot() const {
    PreparedFunction copy = ClonePrepared(p_);
    copy.graph->outputs().resize(outputs_);
    std::vector<ir::Variable*> keep;
    for (const auto& [target, value] : copy.updates) keep.insert(keep.end(), {target, value});
    for (const ir::Variable* s : copy.canonical.shared)
      keep.push_back(const_cast<ir::Variable*>(s));
    copy.graph->RemoveDeadNodes(keep);
    return copy;
  }

 private:
  PreparedFunction p_;
  size_t outputs_;
};

// Options that build a graph exactly as given: DebugMode runs the passes itself.
CompileOptions Unoptimized(CompileOptions options) {
  options.mode = "FAST_RUN";
  options.optimizer_excluding = passes::Pipeline::AllPassNames();
  return options;
}

template <typename T>
std::string CompareFloats(const runtime::Tensor& got, const runtime::Tensor& want, Tolerance tol) {
  const T* g = got.data<T>();
  const T* w = want.data<T>();
  for (int64_t i = 0, n = got.num_elements(); i < n; ++i) {
    const double a = g[i], b = w[i];
    if (a == b || (std::isnan(a) && std::isnan(b))) continue;
    if (std::fabs(a - b) <= tol.atol + tol.rtol * std::fabs(b)) continue;
    return absl::StrCat(" at flat index ", i, ": ", Number(a), " (optimized) vs ", Number(b),
                        " (unoptimized; tolerance rtol ", Number(tol.rtol), ", atol ",
                        Number(tol.atol), ")");
  }
  return "";
}

std::string CompareTensors(const runtime::Tensor& got_in, const runtime::Tensor& want_in,
                           const std::string& what) {
  if (got_in.dtype() != want_in.dtype()) {
    return absl::StrCat(what, " has dtype ", DTypeName(got_in.dtype()), " (optimized) vs ",
                        DTypeName(want_in.dtype()), " (unoptimized)");
  }
  if (got_in.shape() != want_in.shape()) {
    return absl::StrCat(what, " has shape ", runtime::ShapeString(got_in.shape()),
                        " (optimized) vs ", runtime::ShapeString(want_in.shape()),
                        " (unoptimized)");
  }
  absl::StatusOr<runtime::Tensor> got_host = runtime::OnHost(got_in);  // a GPU's output?
  absl::StatusOr<runtime::Tensor> want_host = runtime::OnHost(want_in);
  if (!got_host.ok()) return absl::StrCat(what, ": ", got_host.status().message());
  if (!want_host.ok()) return absl::StrCat(what, ": ", want_host.status().message());
  runtime::Tensor got = cpu::Contiguous(*got_host), want = cpu::Contiguous(*want_host);
  std::string diff;
  switch (got.dtype()) {
    case DType::kFloat32:
      diff = CompareFloats<float>(got, want, ToleranceFor(DType::kFloat32));
      break;
    case DType::kFloat64:
      diff = CompareFloats<double>(got, want, ToleranceFor(DType::kFloat64));
      break;
    default: {
      const size_t size = DTypeSize(got.dtype());
      const char* g = static_cast<const char*>(got.raw());
      const char* w = static_cast<const char*>(want.raw());
      for (int64_t i = 0, n = got.num_elements(); i < n && diff.empty(); ++i) {
        if (std::memcmp(g + i * size, w + i * size, size) != 0) {
          diff = absl::StrCat(" at flat index ", i, " (", DTypeName(got.dtype()),
                              " values compare exactly)");
        }
      }
    }
  }
  return diff.empty() ? "" : absl::StrCat(what, " differs", diff);
}

}  // namespace

Tolerance ToleranceFor(DType dtype) {
  switch (dtype) {
    case DType::kFloat16:
      return {1e-3, 1e-3};
    case DType::kFloat32:
      return {1e-4, 1e-4};
    case DType::kFloat64:
      return {1e-5, 1e-8};
    default:
      return {0, 0};
  }
}

PassListFactory PipelinePasses(passes::PipelineOptions options) {
  return [options] {
    auto pipeline = std::make_shared<passes::Pipeline>(options);
    PassList list;
    // Aliasing pointers: each pass keeps the pipeline that owns it alive.
    for (const auto& pass : pipeline->passes()) list.emplace_back(pipeline, pass.get());
    return list;
  };
}

PreparedFunction ClonePrepared(const PreparedFunction& p) {
  std::unordered_map<const ir::Variable*, ir::Variable*> map;
  std::unique_ptr<ir::Graph> graph = p.graph->Clone(&map);

  PreparedFunction out;
  for (const auto& [target, value] : p.updates)
    out.updates.emplace_back(map.at(target), map.at(value));
  out.canonical.key = p.canonical.key;
  for (const ir::Variable* s : p.canonical.shared) out.canonical.shared.push_back(map.at(s));
  out.options = p.options;
  out.graph = std::move(graph);
  return out;
}

DebugModeCheck::DebugModeCheck(PreparedFunction unoptimized, std::shared_ptr<Executable> reference,
                               PassListFactory passes)
    : unoptimized_(std::move(unoptimized)),
      reference_(std::move(reference)),
      passes_(std::move(passes)) {
  const auto& outs = unoptimized_.graph->outputs();
  for (size_t i = 0; i < outs.size(); ++i) {
    output_labels_.push_back(absl::StrCat(
        "output ", i, outs[i]->name.empty() ? "" : absl::StrCat(" ('", outs[i]->name, "')")));
  }
  for (const auto& [target, value] : unoptimized_.updates) {
    update_labels_.push_back(
        absl::StrCat("the update of shared variable '", target->DisplayName(), "'"));
  }
}

DebugModeCheck::~DebugModeCheck() = default;

size_t DebugModeCheck::ApproximateBytes() const {
  // The kept unoptimized graph shares its constants with the reference executable.
  return reference_->ApproximateBytes() + unoptimized_.graph->variables().size() * 128 +
         unoptimized_.graph->applies().size() * 256;
}

std::string DebugModeCheck::Compare(const RunResult& got, const RunResult& want) const {
  for (size_t i = 0; i < want.outputs.size() && i < got.outputs.size(); ++i) {
    std::string diff = CompareTensors(got.outputs[i], want.outputs[i], output_labels_[i]);
    if (!diff.empty()) return diff;
  }
  for (size_t i = 0; i < want.updates.size() && i < got.updates.size(); ++i) {
    std::string diff = CompareTensors(got.updates[i], want.updates[i], update_labels_[i]);
    if (!diff.empty()) return diff;
  }
  if (got.outputs.size() != want.outputs.size() || got.updates.size() != want.updates.size()) {
    return "the optimized graph has a different number of outputs or updates";
  }
  return "";
}

std::string DebugModeCheck::Outcome(const absl::StatusOr<RunResult>& got,
                                    const RunResult& want) const {
  if (got.ok()) return Compare(*got, want);
  return absl::StrCat("the optimized graph failed where the unoptimized graph ran: ",
                      got.status().message());
}

std::string DebugModeCheck::Bisect(const std::vector<runtime::Tensor>& inputs,
                                   const std::vector<runtime::Tensor>& shared_values,
                                   const RunResult& want, const std::string& first_diff) const {
  Replay replay(ClonePrepared(unoptimized_));
  for (const auto& pass : passes_()) {
    absl::StatusOr<bool> changed = replay.Step(*pass);
    if (!changed.ok()) {
      return absl::StrCat("replaying the optimizer failed: ", changed.status().message());
    }
    if (!*changed) continue;
    PreparedFunction stage = replay.Snapshot();
    stage.options = Unoptimized(stage.options);
    absl::StatusOr<std::shared_ptr<Executable>> exe = BuildPlainExecutable(std::move(stage));
    std::string diff;
    if (!exe.ok()) {
      diff = absl::StrCat("its graph does not build: ", exe.status().message());
    } else {
      diff = Outcome((*exe)->Run(inputs, shared_values), want);
    }
    if (!diff.empty()) {
      // Right after the pass the difference may look different (later passes build on it).
      return absl::StrCat("the first optimizer pass after which the results differ is '",
                          pass->name(), "'", diff == first_diff ? "" : " (right after it: ",
                          diff == first_diff ? "" : diff, diff == first_diff ? "" : ")");
    }
  }
  return "no single optimizer pass reproduces the difference, so it comes from code generation "
         "(casts, inplace or memory reuse in the executable builder)";
}

absl::StatusOr<RunResult> DebugModeCheck::Run(
    const Executable& optimized, std::vector<runtime::Tensor> inputs,
    const std::vector<runtime::Tensor>& shared_values) const {
  // Tensors are immutable values shared by reference: copies of the vector are cheap, and no
  // kernel writes into a caller's input, so both runs and a replay see the same data.
  const std::vector<runtime::Tensor> saved = inputs;
  // A failure of the unoptimized graph is the caller's error (a bad shape, say), not DebugMode's.
  TENSORD_ASSIGN_OR_RETURN(RunResult want, reference_->Run(saved, shared_values));
  absl::StatusOr<RunResult> got = optimized.RunUnchecked(std::move(inputs), shared_values);
  const std::string diff = Outcome(got, want);
  if (diff.empty()) return got;
  return InvalidArgument("DebugMode: ", diff, "; ", Bisect(saved, shared_values, want, diff));
}

absl::StatusOr<std::shared_ptr<Executable>> BuildDebugModeExecutable(PreparedFunction prepared,
                                                                     PassListFactory passes) {
  if (!passes) {
    passes = PipelinePasses({.mode = "FAST_RUN",
                             .excluding = prepared.options.optimizer_excluding,
                             .verify_each = true});
  }
  const CompileOptions plain = Unoptimized(prepared.options);
  prepared.options = plain;

  PreparedFunction reference_fn = ClonePrepared(prepared);
  TENSORD_ASSIGN_OR_RETURN(std::shared_ptr<Executable> reference,
                           BuildPlainExecutable(std::move(reference_fn)));

  Replay replay(ClonePrepared(prepared));
  for (const auto& pass : passes()) TENSORD_RETURN_IF_ERROR(replay.Step(*pass).status());
  TENSORD_ASSIGN_OR_RETURN(std::shared_ptr<Executable> optimized,
                           BuildPlainExecutable(replay.Snapshot()));
  optimized->SetInterceptor(std::make_shared<DebugModeCheck>(
      std::move(prepared), std::move(reference), std::move(passes)));
  return optimized;
}

}  // namespace tensord::compile
