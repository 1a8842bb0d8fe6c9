#include "engine/runtime/deferred_checks.h"

#include "absl/strings/str_cat.h"

namespace tensord::runtime {
namespace {

thread_local DeferredChecks* current = nullptr;

}  // namespace

DeferredChecks::DeferredChecks() : previous_(current) { current = this; }

DeferredChecks::~DeferredChecks() { current = previous_; }

DeferredChecks* DeferredChecks::Current() { return current; }

void DeferredChecks::Add(std::function<absl::Status()> check) {
  checks_.emplace_back(label_, std::move(check));
}

absl::Status DeferredChecks::RunAll() {
  std::vector<std::pair<const std::string*, std::function<absl::Status()>>> checks;
  checks.swap(checks_);
  for (auto& [label, check] : checks) {
    absl::Status status = check();
    if (status.ok()) continue;
    if (label == nullptr) return status;
    return absl::Status(status.code(), absl::StrCat("in ", *label, ": ", status.message()));
  }
  return absl::OkStatus();
}

}  // namespace tensord::runtime
