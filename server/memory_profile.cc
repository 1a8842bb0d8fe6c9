#include "server/memory_profile.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tensord::server {
namespace {

constexpr size_t kAppliesToPrint = 20;    // Theano's n_apply_to_print
constexpr int64_t kMinMemorySize = 1024;  // Theano's profiling.min_memory_size

// Theano prints int(round(bytes / 1024.)): Python rounds halves to even, as nearbyint does.
int64_t Kilobytes(int64_t bytes) { return static_cast<int64_t>(std::nearbyint(bytes / 1024.0)); }

std::string ContextLabel(const v1::ContextMemoryProfile& c) {
  if (c.context() == "cpu") return "CPU";
  return absl::StrFormat("%s (%s)", c.context(), c.device());
}

}  // namespace

RunMemory MeasureRunMemory(const compile::Executable& exe, const compile::RunTrace& trace) {
  const auto& instructions = exe.instructions();
  auto ran = [&](size_t i) {
    return i < trace.duration_ns.size() && trace.duration_ns[i] >= 0 && i < trace.outputs.size();
  };
  // Slots that live past the run whatever reads them.
  std::unordered_set<int> kept(exe.output_slots().begin(), exe.output_slots().end());
  kept.insert(exe.update_slots().begin(), exe.update_slots().end());
  for (const auto& b : exe.input_params()) kept.insert(b.slot);
  for (const auto& b : exe.shared_params()) kept.insert(b.slot);
  std::unordered_map<int, size_t> last_read;
  for (size_t i = 0; i < instructions.size(); ++i) {
    if (!ran(i)) continue;
    for (int s : instructions[i].inputs) last_read[s] = i;
  }

  std::unordered_set<const void*> seen;
  int64_t bound = 0;
  for (const auto& [buffer, bytes] : trace.bound_buffers) {
    if (seen.insert(buffer).second) bound += bytes;
  }
  int64_t created = 0, inplace = 0, live = bound, peak_with_gc = bound;
  std::unordered_map<const void*, int64_t> counted;  // buffers created by the run, still live
  std::unordered_map<const void*, int> readers;      // live slots holding each buffer
  std::unordered_map<int, const void*> slot_buffer;
  auto release = [&](int slot) {
    if (kept.count(slot)) return;
    auto it = slot_buffer.find(slot);
    if (it == slot_buffer.end()) return;
    const void* buffer = it->second;
    slot_buffer.erase(it);
    if (--readers[buffer] > 0) return;
    if (auto c = counted.find(buffer); c != counted.end()) {
      live -= c->second;
      counted.erase(c);
    }
  };
  for (size_t i = 0; i < instructions.size(); ++i) {
    if (!ran(i)) continue;
    const compile::Instruction& ins = instructions[i];
    const auto& outputs = trace.outputs[i];
    for (size_t k = 0; k < outputs.size() && k < ins.outputs.size(); ++k) {
      const compile::OutputMemory& m = outputs[k];
      if (m.buffer == nullptr) continue;
      if (m.kind == 'i') inplace += m.bytes;
      if (m.kind == 'c' && seen.insert(m.buffer).second) {
        created += m.buffer_bytes;
        live += m.buffer_bytes;
        counted[m.buffer] = m.buffer_bytes;
      }
      release(ins.outputs[k]);  // a slot written twice (never, today) drops its old buffer
      slot_buffer[ins.outputs[k]] = m.buffer;
      ++readers[m.buffer];
    }
    peak_with_gc = std::max(peak_with_gc, live);
    for (int s : ins.inputs) {
      if (last_read.at(s) == i) release(s);
    }
    for (int s : ins.outputs) {
      if (!last_read.count(s)) release(s);  // an output nothing reads
    }
  }
  return {bound + created, bound + created + inplace, peak_with_gc};
}

std::string OutputShapes(const std::vector<compile::OutputMemory>& outputs) {
  std::vector<std::string> shapes;
  for (const auto& m : outputs) shapes.push_back(runtime::ShapeString(m.shape));
  return absl::StrCat("[", absl::StrJoin(shapes, ", "), "]");
}

std::string OutputKinds(const std::vector<compile::OutputMemory>& outputs) {
  std::vector<std::string> kinds;
  for (const auto& m : outputs) kinds.emplace_back(1, m.kind);
  return absl::StrJoin(kinds, " ");
}

std::string MemorySummary(const v1::GetProfileResponse& p) {
  std::string out = "Memory Profile\n(Sparse variables are ignored)\n---\n";
  auto figures = [&](const char* title, auto field) {
    absl::StrAppend(&out, "    ", title, "\n");
    int64_t total = 0;
    for (const auto& c : p.memory()) {
      absl::StrAppendFormat(&out, "        %s: %dKB\n", ContextLabel(c), Kilobytes(field(c)));
      total += field(c);
    }
    if (p.memory_size() > 1) absl::StrAppendFormat(&out, "        Total: %dKB\n", Kilobytes(total));
  };
  figures("Max peak memory with current setting",
          [](const v1::ContextMemoryProfile& c) { return c.peak_bytes(); });
  figures("Max peak memory with current setting and Theano flag optimizer_excluding=inplace",
          [](const v1::ContextMemoryProfile& c) { return c.peak_bytes_without_inplace(); });
  figures("Max peak memory if allow_gc=True (each intermediate freed after its last use)",
          [](const v1::ContextMemoryProfile& c) { return c.peak_bytes_with_gc(); });
  out += "---\n\n";
  out +=
      "    <Sum apply outputs (bytes)> <Apply outputs shape> <created/inplace/view> <Apply "
      "node>\n\n";
  std::vector<const v1::ApplyProfile*> applies;
  for (const auto& a : p.applies()) applies.push_back(&a);
  std::stable_sort(applies.begin(), applies.end(),
                   [](auto* a, auto* b) { return a->output_bytes() > b->output_bytes(); });
  size_t printed = 0;
  for (; printed < applies.size() && printed < kAppliesToPrint; ++printed) {
    const v1::ApplyProfile& a = *applies[printed];
    if (a.output_bytes() < kMinMemorySize) break;
    absl::StrAppendFormat(&out, "     %9dB  %s %s %s\n", a.output_bytes(), a.output_shapes(),
                          a.output_kinds(), a.label());
  }
  int64_t remaining = 0, all = 0;
  for (size_t i = 0; i < applies.size(); ++i) {
    all += applies[i]->output_bytes();
    if (i >= printed) remaining += applies[i]->output_bytes();
  }
  std::string share = all == 0 ? "0%" : absl::StrFormat("(%.2f%%)", 100.0 * remaining / all);
  absl::StrAppendFormat(&out,
                        "   ... (remaining %d Apply account for %4dB/%dB (%s) of the Apply with "
                        "dense outputs sizes)\n\n",
                        applies.size() - printed, remaining, all, share);
  if (printed == 0) {
    absl::StrAppendFormat(&out, "    All Apply nodes have output sizes that take less than %dB.\n",
                          kMinMemorySize);
  }
  out +=
      "    <created/inplace/view> is measured in the last run: an output with a buffer of its "
      "own (c), its input's buffer taken inplace (i) or a view of an input (v).\n"
      "    Peaks count inputs, shared values and every buffer a run creates; a buffer read "
      "through several views counts once.\n\n";
  return out;
}

}  // namespace tensord::server
