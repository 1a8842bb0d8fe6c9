#include "engine/runtime/interrupt.h"

namespace tensord::runtime {
namespace {

thread_local const Interrupt* current = nullptr;

}  // namespace

ScopedInterrupt::ScopedInterrupt(Interrupt interrupt)
    : interrupt_(std::move(interrupt)), previous_(current) {
  current = &interrupt_;
}

ScopedInterrupt::~ScopedInterrupt() { current = previous_; }

absl::Status CheckInterrupted() {
  if (current == nullptr) return absl::OkStatus();
  if (current->cancelled && current->cancelled()) {
    return absl::CancelledError(
        "the call was cancelled (its client went away); nothing was stored");
  }
  if (std::chrono::steady_clock::now() > current->deadline) {
    return absl::DeadlineExceededError(
        "the call passed its deadline and was stopped; nothing was stored");
  }
  return absl::OkStatus();
}

}  // namespace tensord::runtime
