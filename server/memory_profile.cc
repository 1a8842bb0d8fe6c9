#include "server/memory_profile.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/compile/drop_plan.h"

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

namespace {

struct Replay {
  int64_t peak_live = 0;  // the most bytes live at once, each intermediate dropped when dead
  int64_t created = 0;    // bytes of every buffer the run created
};

// Replays a recorded run: a buffer lives while a slot holds it, and the slots `dead_after` an
// instruction are dropped once it ran or was skipped. Buffers are told apart by address while
// a slot holds them: an address handed out again after its buffer was dropped is a new buffer.
// Only outputs of a buffer of their own (kind c) create one; a view or inplace output of a
// buffer outside the run (a constant's) counts nothing. With `inplace_as_new`, an inplace output
// counts as a buffer of its own (Theano's optimizer_excluding=inplace), and later views of its
// address are views of it.
Replay ReplayRun(const compile::Executable& exe, const compile::RunTrace& trace,
                 const std::vector<std::vector<int>>& dead_after, int64_t bound_bytes,
                 bool inplace_as_new) {
  const auto& instructions = exe.instructions();
  std::unordered_set<const void*> bound;  // inputs' and shared values' buffers: live throughout
  for (const auto& [buffer, bytes] : trace.bound_buffers) bound.insert(buffer);
  struct Held {
    int64_t bytes = 0;
    int slots = 0;
    const void* address = nullptr;  // the buffer's, when the key stands for it (inplace_as_new)
  };
  std::unordered_map<const void*, Held> held;            // key -> the buffer held
  std::unordered_map<const void*, const void*> renamed;  // address -> key standing for it
  std::unordered_map<int, const void*> slot_buffer;      // slot -> key
  Replay r;
  int64_t live = bound_bytes;
  r.peak_live = live;
  auto drop = [&](int slot) {
    auto it = slot_buffer.find(slot);
    if (it == slot_buffer.end()) return;
    auto h = held.find(it->second);
    slot_buffer.erase(it);
    if (h == held.end() || --h->second.slots > 0) return;
    live -= h->second.bytes;
    // Unless a later inplace output stands for the address by now.
    if (auto a = renamed.find(h->second.address); a != renamed.end() && a->second == h->first) {
      renamed.erase(a);
    }
    held.erase(h);
  };
  for (size_t i = 0; i < instructions.size(); ++i) {
    const bool ran =
        i < trace.duration_ns.size() && trace.duration_ns[i] >= 0 && i < trace.outputs.size();
    const size_t outputs =
        ran ? std::min(trace.outputs[i].size(), instructions[i].outputs.size()) : 0;
    for (size_t k = 0; k < outputs; ++k) {
      const compile::OutputMemory& m = trace.outputs[i][k];  // its address names it, as_new
      if (m.buffer == nullptr) continue;
      const int slot = instructions[i].outputs[k];
      drop(slot);
      if (inplace_as_new && m.kind == 'i') {
        held[&m] = {m.bytes, 1, m.buffer};
        renamed[m.buffer] = &m;
        slot_buffer[slot] = &m;
        live += m.bytes;
        r.created += m.bytes;
        continue;
      }
      auto alias = renamed.find(m.buffer);
      const void* key = alias != renamed.end() ? alias->second : m.buffer;
      if (bound.count(key)) continue;  // a view of an input or a shared value
      if (auto h = held.find(key); h != held.end()) {
        ++h->second.slots;  // a view, or an inplace output, of a live buffer
        slot_buffer[slot] = key;
        continue;
      }
      if (m.kind != 'c') continue;  // a view of a buffer outside the run: a constant's
      held[key] = {m.buffer_bytes, 1, nullptr};
      slot_buffer[slot] = key;
      live += m.buffer_bytes;
      r.created += m.buffer_bytes;
    }
    r.peak_live = std::max(r.peak_live, live);
    for (int s : dead_after[i]) drop(s);
  }
  return r;
}

}  // namespace

RunMemory MeasureRunMemory(const compile::Executable& exe, const compile::RunTrace& trace) {
  int64_t bound = 0;
  std::unordered_set<const void*> seen;
  for (const auto& [buffer, bytes] : trace.bound_buffers) {
    if (seen.insert(buffer).second) bound += bytes;
  }
  // Where the run dropped its intermediates, or, for a function that keeps them, where it would
  // with allow_gc (its ifelse conditions, a scalar each, aside).
  std::vector<std::vector<int>> dead_after;
  if (exe.keeps_intermediates()) {
    std::unordered_set<int> kept(exe.output_slots().begin(), exe.output_slots().end());
    kept.insert(exe.update_slots().begin(), exe.update_slots().end());
    for (const auto& b : exe.input_params()) kept.insert(b.slot);
    for (const auto& b : exe.shared_params()) kept.insert(b.slot);
    dead_after = compile::DeadSlotsAfter(exe.instructions(), kept);
  } else {
    for (const compile::Instruction& ins : exe.instructions()) dead_after.push_back(ins.drops);
  }
  const Replay as_run = ReplayRun(exe, trace, dead_after, bound, false);
  const Replay no_inplace = ReplayRun(exe, trace, dead_after, bound, true);
  RunMemory m;
  m.peak_bytes_with_gc = as_run.peak_live;
  m.peak_bytes_without_gc = bound + as_run.created;
  if (exe.keeps_intermediates()) {
    m.peak_bytes = m.peak_bytes_without_gc;
    m.peak_bytes_without_inplace = bound + no_inplace.created;
  } else {
    m.peak_bytes = m.peak_bytes_with_gc;
    m.peak_bytes_without_inplace = no_inplace.peak_live;
  }
  return m;
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
  figures("Max peak memory if allow_gc=False (linker don't make a difference)",
          [](const v1::ContextMemoryProfile& c) { return c.peak_bytes_without_gc(); });
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
