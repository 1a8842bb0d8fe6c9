#include "engine/ops/defs/scan_layout.h"

#include <algorithm>
#include <numeric>

namespace tensord::ops {
namespace {

absl::StatusOr<int64_t> IntAttr(const ir::Apply& node, const std::string& key,
                                std::optional<int64_t> fallback) {
  if (!node.attrs.count(key) && fallback.has_value()) return *fallback;
  return ir::GetAttr<int64_t>(node, key);
}

}  // namespace

int64_t ScanLayout::InitRows(int j) const {
  return -*std::min_element(taps[j].begin(), taps[j].end());
}

std::string ScanLayout::Label() const {
  return name.empty() ? std::string("scan") : absl::StrCat("scan '", name, "'");
}

absl::StatusOr<ScanLayout> ParseScanLayout(const ir::Apply& node) {
  ScanLayout l;
  TENSORD_ASSIGN_OR_RETURN(int64_t n_seqs, IntAttr(node, "n_seqs", std::nullopt));
  TENSORD_ASSIGN_OR_RETURN(int64_t n_nit, IntAttr(node, "n_nit_sot", std::nullopt));
  TENSORD_ASSIGN_OR_RETURN(int64_t n_shared, IntAttr(node, "n_shared_outs", std::nullopt));
  TENSORD_ASSIGN_OR_RETURN(l.truncate_gradient, IntAttr(node, "truncate_gradient", -1));
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> taps, ir::GetIntsAttr(node, "mit_sot_taps"));
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> counts,
                           ir::GetIntsAttr(node, "mit_sot_tap_counts"));
  if (node.attrs.count("until")) {
    TENSORD_ASSIGN_OR_RETURN(l.until, ir::GetAttr<bool>(node, "until"));
  }
  if (node.attrs.count("name")) {
    TENSORD_ASSIGN_OR_RETURN(l.name, ir::GetAttr<std::string>(node, "name"));
  }
  if (node.attrs.count("mode")) {
    TENSORD_ASSIGN_OR_RETURN(l.mode, ir::GetAttr<std::string>(node, "mode"));
  }
  const std::string label = l.Label();
  // The body compiles in this mode: one the server does not know would silently run as FAST_RUN
  // (the modes of server/functions.cc; "" = the function's).
  static const char* const kModes[] = {"",          "FAST_RUN",     "FAST_COMPILE",
                                       "DebugMode", "NanGuardMode", "Mode"};
  if (std::find(std::begin(kModes), std::end(kModes), l.mode) == std::end(kModes)) {
    return InvalidArgument(label, ": unknown mode '", l.mode,
                           "' for the step function (expected FAST_RUN, FAST_COMPILE, DebugMode "
                           "or NanGuardMode)");
  }
  constexpr int64_t kMaxCount = 1 << 16;
  for (auto [what, v] :
       {std::pair{"n_seqs", n_seqs}, {"n_nit_sot", n_nit}, {"n_shared_outs", n_shared}}) {
    if (v < 0 || v > kMaxCount) return InvalidArgument(label, ": ", what, " is ", v);
  }
  if (l.truncate_gradient == 0 || l.truncate_gradient < -1) {
    return InvalidArgument(label, ": truncate_gradient is ", l.truncate_gradient,
                           "; it must be -1 (no truncation) or a positive number of steps");
  }
  l.n_seqs = static_cast<int>(n_seqs);
  l.n_nit = static_cast<int>(n_nit);
  l.n_shared = static_cast<int>(n_shared);
  l.n_mit = static_cast<int>(counts.size());
  int64_t total = 0;
  for (int64_t c : counts) {
    if (c < 1 || c > kMaxCount) {
      return InvalidArgument(label,
                             ": every recurrent output needs at least one tap "
                             "(mit_sot_tap_counts has ",
                             c, ")");
    }
    total += c;
  }
  if (total != static_cast<int64_t>(taps.size())) {
    return InvalidArgument(label, ": mit_sot_tap_counts add up to ", total,
                           " but mit_sot_taps has ", taps.size(), " taps");
  }
  size_t next = 0;
  for (int j = 0; j < l.n_mit; ++j) {
    std::vector<int64_t> t(taps.begin() + next, taps.begin() + next + counts[j]);
    l.tap_offset.push_back(static_cast<int>(next));
    next += counts[j];
    for (int64_t tap : t) {
      if (tap >= 0 || tap < -kMaxCount) {
        return InvalidArgument(label, ": recurrent output ", j, " has tap ", tap,
                               "; taps of outputs must be negative (-1 is the previous step)");
      }
    }
    std::vector<int64_t> sorted = t;
    std::sort(sorted.begin(), sorted.end());
    if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
      return InvalidArgument(label, ": recurrent output ", j, " lists a tap twice");
    l.taps.push_back(std::move(t));
  }
  l.total_taps = static_cast<int>(total);
  const int fixed = 1 + l.n_seqs + l.n_mit + l.n_shared;
  const int n_inputs = static_cast<int>(node.inputs.size());
  if (n_inputs < fixed) {
    return InvalidArgument(label, " has ", n_inputs, " inputs but needs at least ", fixed,
                           " (n_steps, ", l.n_seqs, " sequences, ", l.n_mit, " initial states, ",
                           l.n_shared, " shared states)");
  }
  l.n_non_seqs = n_inputs - fixed;
  return l;
}

absl::StatusOr<ScanGradLayout> ParseScanGradLayout(const ir::Apply& node) {
  ScanGradLayout g;
  TENSORD_ASSIGN_OR_RETURN(g.mit_grads, ir::GetIntsAttr(node, "mit_sot_grads"));
  TENSORD_ASSIGN_OR_RETURN(g.nit_grads, ir::GetIntsAttr(node, "nit_sot_grads"));
  if (node.attrs.count("shared_histories")) {
    TENSORD_ASSIGN_OR_RETURN(g.shared_histories, ir::GetIntsAttr(node, "shared_histories"));
  }
  int64_t extra = static_cast<int64_t>(g.mit_grads.size());
  for (const auto* flags : {&g.mit_grads, &g.nit_grads, &g.shared_histories}) {
    for (int64_t f : *flags) {
      if (f != 0 && f != 1) return InvalidArgument("scan_grad: flags must be 0 or 1, got ", f);
      extra += f;
    }
  }
  if (extra >= static_cast<int64_t>(node.inputs.size()))
    return InvalidArgument("scan_grad has ", node.inputs.size(), " inputs, too few for its flags");
  ir::Apply forward{"scan", node.attrs, {node.inputs.begin(), node.inputs.end() - extra},
                    {},     nullptr,    {}};
  TENSORD_ASSIGN_OR_RETURN(g.forward, ParseScanLayout(forward));
  const ScanLayout& l = g.forward;
  if (g.shared_histories.empty()) g.shared_histories.assign(l.n_shared, 0);
  if (static_cast<int>(g.mit_grads.size()) != l.n_mit ||
      static_cast<int>(g.nit_grads.size()) != l.n_nit ||
      static_cast<int>(g.shared_histories.size()) != l.n_shared) {
    return InvalidArgument("gradient of ", l.Label(),
                           ": mit_sot_grads, nit_sot_grads and shared_histories need one flag per "
                           "recurrent output, non-recurrent output and shared state");
  }
  return g;
}

ir::Attrs ScanAttrs(const ScanLayout& l) {
  std::vector<int64_t> taps, counts;
  for (const auto& t : l.taps) {
    taps.insert(taps.end(), t.begin(), t.end());
    counts.push_back(static_cast<int64_t>(t.size()));
  }
  return {{"n_seqs", int64_t{l.n_seqs}},
          {"mit_sot_taps", taps},
          {"mit_sot_tap_counts", counts},
          {"n_nit_sot", int64_t{l.n_nit}},
          {"n_shared_outs", int64_t{l.n_shared}},
          {"truncate_gradient", l.truncate_gradient},
          {"until", l.until},
          {"name", l.name},
          {"mode", l.mode}};
}

absl::Status CheckBodyIsClosed(const ir::Graph& body, const std::string& label) {
  const auto& listed = body.inputs();
  for (const auto& v : body.variables()) {
    if (v->source == ir::Source::kShared) {
      return InvalidArgument(label, ": the step function uses shared variable ", v->DisplayName(),
                             " directly; pass it as a non-sequence (or a shared out when the "
                             "step updates it)");
    }
    if (v->source == ir::Source::kInput &&
        std::find(listed.begin(), listed.end(), v.get()) == listed.end()) {
      return InvalidArgument(label, ": the step function uses ", v->DisplayName(),
                             ", which is not one of its inputs");
    }
  }
  return absl::OkStatus();
}

DType GradDType(DType d) { return IsFloat(d) ? d : DType::kFloat64; }

ir::Type GradType(const ir::Type& t) { return {GradDType(t.dtype), t.broadcastable}; }

ir::Type RowType(const ir::Type& t) {
  return {t.dtype, std::vector<bool>(t.broadcastable.begin() + 1, t.broadcastable.end())};
}

ir::Type StackedType(const ir::Type& t) {
  std::vector<bool> b{false};
  b.insert(b.end(), t.broadcastable.begin(), t.broadcastable.end());
  return {t.dtype, std::move(b)};
}

}  // namespace tensord::ops
