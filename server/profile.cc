#include "server/profile.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <map>

#include "absl/strings/str_cat.h"

namespace tensord::server {
namespace {

constexpr size_t kRowsToPrint = 20;  // Theano's n_ops_to_print / n_apply_to_print

__attribute__((format(printf, 1, 2))) std::string Format(const char* fmt, ...) {
  va_list args, again;
  va_start(args, fmt);
  va_copy(again, args);
  int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out(n > 0 ? n : 0, '\0');
  std::vsnprintf(out.data(), out.size() + 1, fmt, again);
  va_end(again);
  return out;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += Format("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

struct Row {
  std::string name;
  int64_t time_ns = 0;
  int64_t calls = 0;
  int applies = 0;
  int id = 0;
};

// One of Theano's Class / Ops tables: rows by time, the rest summed in a last line.
void Table(std::string& out, const char* title, const char* what, std::vector<Row> rows,
           double thunks_s) {
  std::stable_sort(rows.begin(), rows.end(),
                   [](const Row& a, const Row& b) { return a.time_ns > b.time_ns; });
  absl::StrAppend(&out, title, "\n", std::string(std::string(title).size(), '-'), "\n");
  absl::StrAppend(&out, "<% time> <sum %> <apply time> <time per call> <type> <#call> <#apply> <",
                  what, " name>\n");
  double sum = 0;
  for (size_t i = 0; i < rows.size() && i < kRowsToPrint; ++i) {
    const Row& r = rows[i];
    double t = r.time_ns * 1e-9, pct = thunks_s > 0 ? 100.0 * t / thunks_s : 0.0;
    sum += pct;
    out += Format("  %5.1f%%   %5.1f%%      %7.3fs       %.2es     C   %5lld   %5d   %s\n", pct,
                  sum, t, r.calls ? t / r.calls : 0.0, static_cast<long long>(r.calls), r.applies,
                  r.name.c_str());
  }
  double rest_s = 0;
  for (size_t i = kRowsToPrint; i < rows.size(); ++i) rest_s += rows[i].time_ns * 1e-9;
  out += Format("   ... (remaining %d %s account for %6.2f%%(%.2fs) of the runtime)\n\n",
                static_cast<int>(rows.size() > kRowsToPrint ? rows.size() - kRowsToPrint : 0),
                std::string(what) == "Class" ? "Classes" : "Ops",
                thunks_s > 0 ? 100.0 * rest_s / thunks_s : 0.0, rest_s);
}

}  // namespace

void FunctionProfile::Record(const compile::RunTrace& trace, int64_t call_ns,
                             const compile::Executable* exe) {
  RunMemory run;
  if (memory_.enabled && exe != nullptr) run = MeasureRunMemory(*exe, trace);
  std::lock_guard<std::mutex> lock(mu_);
  peak_.peak_bytes = std::max(peak_.peak_bytes, run.peak_bytes);
  peak_.peak_bytes_without_inplace =
      std::max(peak_.peak_bytes_without_inplace, run.peak_bytes_without_inplace);
  peak_.peak_bytes_with_gc = std::max(peak_.peak_bytes_with_gc, run.peak_bytes_with_gc);
  peak_.peak_bytes_without_gc = std::max(peak_.peak_bytes_without_gc, run.peak_bytes_without_gc);
  ++calls_;
  time_in_calls_ns_ += call_ns;
  for (size_t i = 0; i < trace.duration_ns.size() && i < apply_ns_.size(); ++i) {
    if (trace.duration_ns[i] < 0) continue;
    apply_ns_[i] += trace.duration_ns[i];
    time_in_thunks_ns_ += trace.duration_ns[i];
    ++apply_calls_[i];
  }
  last_ = trace;
}

void FunctionProfile::Reset() {
  std::lock_guard<std::mutex> lock(mu_);
  calls_ = time_in_calls_ns_ = time_in_thunks_ns_ = 0;
  std::fill(apply_ns_.begin(), apply_ns_.end(), 0);
  std::fill(apply_calls_.begin(), apply_calls_.end(), 0);
  last_ = {};
  peak_ = {};
}

void FunctionProfile::Fill(const std::string& name, const compile::Executable& exe,
                           int64_t client_call_ns, bool optimizer_profile,
                           v1::GetProfileResponse* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  out->set_name(name);
  out->set_calls(calls_);
  out->set_time_in_calls_ns(time_in_calls_ns_);
  out->set_time_in_thunks_ns(time_in_thunks_ns_);
  out->set_compile_ns(exe.compile_ns());
  out->set_optimizer_ns(exe.optimizer_ns());
  out->set_node_count(exe.node_count());
  out->set_nodes_before_optimization(exe.nodes_before_optimization());
  out->set_validate_ns(exe.validate_ns());
  out->set_linker_ns(exe.linker_ns());
  out->set_profile_memory(memory_.enabled);
  if (memory_.enabled) {
    auto* m = out->add_memory();
    m->set_context(memory_.context);
    m->set_device(memory_.device);
    m->set_peak_bytes(peak_.peak_bytes);
    m->set_peak_bytes_without_inplace(peak_.peak_bytes_without_inplace);
    m->set_peak_bytes_with_gc(peak_.peak_bytes_with_gc);
    m->set_peak_bytes_without_gc(peak_.peak_bytes_without_gc);
  }
  const auto& ins = exe.instructions();
  for (size_t i = 0; i < ins.size(); ++i) {
    auto* a = out->add_applies();
    a->set_id(static_cast<int>(i));
    a->set_label(ins[i].theano_label.empty() ? ins[i].label : ins[i].theano_label);
    a->set_op_name(ins[i].op_name.empty() ? ins[i].label : ins[i].op_name);
    a->set_class_name(ProfileClassName(a->op_name()));
    a->set_time_ns(i < apply_ns_.size() ? apply_ns_[i] : 0);
    a->set_calls(i < apply_calls_.size() ? apply_calls_[i] : 0);
    if (i < last_.outputs.size() && !last_.outputs[i].empty()) {
      int64_t bytes = 0;
      for (const auto& o : last_.outputs[i]) bytes += o.bytes;
      a->set_output_bytes(bytes);
      a->set_output_shapes(OutputShapes(last_.outputs[i]));
      a->set_output_kinds(OutputKinds(last_.outputs[i]));
    }
  }
  for (const compile::OptimizerPassTime& pass : exe.optimizer_passes()) {
    auto* o = out->add_optimizer_passes();
    o->set_name(pass.name);
    o->set_changed(pass.changed);
    o->set_time_ns(pass.duration_ns);
  }
  if (!last_.duration_ns.empty()) out->set_chrome_trace(ChromeTrace(exe, last_));
  out->set_summary(ProfileSummary(*out, client_call_ns, optimizer_profile));
}

std::string ProfileClassName(const std::string& op_name) {
  std::string base = op_name.substr(0, op_name.find_first_of("{[("));
  if (base == "InplaceDimShuffle") base = "DimShuffle";
  static const std::map<std::string, std::string> kModules = {
      {"Elemwise", "theano.tensor.elemwise"},
      {"DimShuffle", "theano.tensor.elemwise"},
      {"Sum", "theano.tensor.elemwise"},
      {"Prod", "theano.tensor.elemwise"},
      {"CAReduce", "theano.tensor.elemwise"},
      {"MaxAndArgmax", "theano.tensor.basic"},
      {"Max", "theano.tensor.basic"},
      {"dot", "theano.tensor.basic"},
      {"Dot", "theano.tensor.basic"},
      {"Reshape", "theano.tensor.basic"},
      {"Alloc", "theano.tensor.basic"},
      {"Join", "theano.tensor.basic"},
      {"Shape", "theano.compile.ops"},
      {"Subtensor", "theano.tensor.subtensor"},
      {"IncSubtensor", "theano.tensor.subtensor"},
      {"AdvancedSubtensor1", "theano.tensor.subtensor"},
      {"Gemm", "theano.tensor.blas"},
      {"Gemv", "theano.tensor.blas"},
      {"Dot22", "theano.tensor.blas"},
      {"Softmax", "theano.tensor.nnet.nnet"},
  };
  if (base == "for") return "theano.scan_module.scan_op.Scan";  // for{cpu,scan_fn}
  if (auto it = kModules.find(base); it != kModules.end()) {
    if (base == "dot") base = "Dot";
    return absl::StrCat(it->second, ".", base);
  }
  return absl::StrCat("tensord.ops.", base);  // tensord's own op families
}

// Theano's profile_optimizer section: passes by time, whether each changed the graph.
std::string OptimizerSummary(const v1::GetProfileResponse& p) {
  std::vector<const v1::OptimizerPassProfile*> passes;
  for (const auto& o : p.optimizer_passes()) passes.push_back(&o);
  std::stable_sort(passes.begin(), passes.end(),
                   [](auto* a, auto* b) { return a->time_ns() > b->time_ns(); });
  std::string out = "Optimizer Profile\n-----------------\n";
  out += Format("  %d passes, %es in total\n  <time> <changed> <pass>\n", p.optimizer_passes_size(),
                p.optimizer_ns() * 1e-9);
  for (const auto* o : passes) {
    out += Format("  %es  %-5s  %s\n", o->time_ns() * 1e-9, o->changed() ? "yes" : "no",
                  o->name().c_str());
  }
  return out + "\n";
}

std::string ProfileSummary(const v1::GetProfileResponse& p, int64_t client_call_ns,
                           bool optimizer_profile) {
  double fn_s = p.time_in_calls_ns() * 1e-9, thunks_s = p.time_in_thunks_ns() * 1e-9;
  double call_s = client_call_ns > 0 ? client_call_ns * 1e-9 : fn_s;
  auto pct = [&](double t) { return call_s > 0 ? 100.0 * t / call_s : 0.0; };
  std::string out = "Function profiling\n==================\n";
  absl::StrAppend(&out, "  Message: ", p.name().empty() ? "<unnamed function>" : p.name(), "\n");
  out += Format("  Time in %lld calls to Function.__call__: %es\n",
                static_cast<long long>(p.calls()), call_s);
  out += Format("  Time in Function.fn.__call__: %es (%.3f%%)\n", fn_s, pct(fn_s));
  out += Format("  Time in thunks: %es (%.3f%%)\n", thunks_s, pct(thunks_s));
  out += Format("  Total compile time: %es\n", p.compile_ns() * 1e-9);
  out += Format("    Number of Apply nodes: %d\n", p.node_count());
  out +=
      Format("    Number of Apply nodes before optimization: %d\n", p.nodes_before_optimization());
  out += Format("    Theano Optimizer time: %es\n", p.optimizer_ns() * 1e-9);
  out += Format("       Theano validate time: %es\n", p.validate_ns() * 1e-9);
  out += Format("    Theano Linker time (includes C, CUDA code generation/compiling): %es\n\n",
                p.linker_ns() * 1e-9);
  if (optimizer_profile) out += OptimizerSummary(p);
  if (p.calls() == 0) {
    out += "No execution time accumulated (hint: try config profiling.time_thunks=1)\n";
    return p.profile_memory() ? out + "\n" + MemorySummary(p) : out;
  }
  std::map<std::string, Row> classes, ops;
  std::vector<Row> applies;
  for (const v1::ApplyProfile& a : p.applies()) {
    for (auto [table, key] : {std::pair{&classes, a.class_name()}, {&ops, a.op_name()}}) {
      Row& r = (*table)[key];
      r.name = key;
      r.time_ns += a.time_ns();
      r.calls += a.calls();
      ++r.applies;
    }
    applies.push_back({a.label(), a.time_ns(), a.calls(), 1, a.id()});
  }
  auto values = [](const std::map<std::string, Row>& m) {
    std::vector<Row> v;
    for (const auto& [k, r] : m) v.push_back(r);
    return v;
  };
  Table(out, "Class", "Class", values(classes), thunks_s);
  Table(out, "Ops", "Op", values(ops), thunks_s);
  std::stable_sort(applies.begin(), applies.end(),
                   [](const Row& a, const Row& b) { return a.time_ns > b.time_ns; });
  out += "Apply\n------\n<% time> <sum %> <apply time> <time per call> <#call> <id> <Apply name>\n";
  double sum = 0, rest_s = 0;
  for (size_t i = 0; i < applies.size(); ++i) {
    const Row& r = applies[i];
    double t = r.time_ns * 1e-9, share = thunks_s > 0 ? 100.0 * t / thunks_s : 0.0;
    if (i >= kRowsToPrint) {
      rest_s += t;
      continue;
    }
    sum += share;
    out +=
        Format("  %5.1f%%   %5.1f%%      %7.3fs       %.2es   %5lld   %4d   %s\n", share, sum, t,
               r.calls ? t / r.calls : 0.0, static_cast<long long>(r.calls), r.id, r.name.c_str());
  }
  out += Format("   ... (remaining %d Apply instances account for %.2f%%(%.2fs) of the runtime)\n",
                static_cast<int>(applies.size() > kRowsToPrint ? applies.size() - kRowsToPrint : 0),
                thunks_s > 0 ? 100.0 * rest_s / thunks_s : 0.0, rest_s);
  if (p.profile_memory()) out += "\n" + MemorySummary(p);
  return out;
}

std::string ChromeTrace(const compile::Executable& exe, const compile::RunTrace& trace) {
  std::string out = "{\"traceEvents\":[";
  bool first = true;
  const auto& ins = exe.instructions();
  for (size_t i = 0; i < trace.duration_ns.size() && i < ins.size(); ++i) {
    if (trace.duration_ns[i] < 0) continue;
    const std::string& name = ins[i].theano_label.empty() ? ins[i].label : ins[i].theano_label;
    // A node timed on its device (CUDA events) gets the device's row: its duration is its
    // kernels' there, its start the host's launch.
    const bool on_device = i < trace.device_timed.size() && trace.device_timed[i];
    absl::StrAppend(
        &out, first ? "" : ",", "{\"name\":", JsonString(name),
        ",\"cat\":", JsonString(ins[i].op_name), ",\"ph\":\"X\",",
        Format("\"ts\":%.3f,\"dur\":%.3f", trace.start_ns[i] / 1e3, trace.duration_ns[i] / 1e3),
        ",\"pid\":1,\"tid\":", on_device ? 2 : 1, ",\"args\":{\"id\":", i,
        on_device ? ",\"clock\":\"device\"" : "", "}}");
    first = false;
  }
  return out + "],\"displayTimeUnit\":\"ns\"}";
}

}  // namespace tensord::server
