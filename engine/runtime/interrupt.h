// Stopping long runs: a run's server thread installs the RPC's deadline and cancellation check
// for the duration of the run (ScopedInterrupt), and loops whose length the request controls
// (scan's steps) poll CheckInterrupted, so a run whose client gave up or whose deadline passed
// ends with DEADLINE_EXCEEDED / CANCELLED instead of occupying the thread indefinitely.
#pragma once

#include <chrono>
#include <functional>

#include "engine/common/status.h"

namespace tensord::runtime {

struct Interrupt {
  // Time after which the run fails with DEADLINE_EXCEEDED (max: none).
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // True when the caller has gone away (the RPC was cancelled); may be empty.
  std::function<bool()> cancelled;
};

// Installs `interrupt` for this thread (nesting restores the outer one).
class ScopedInterrupt {
 public:
  explicit ScopedInterrupt(Interrupt interrupt);
  ~ScopedInterrupt();
  ScopedInterrupt(const ScopedInterrupt&) = delete;
  ScopedInterrupt& operator=(const ScopedInterrupt&) = delete;

 private:
  Interrupt interrupt_;
  const Interrupt* previous_;
};

// OK unless this thread's run passed its deadline or was cancelled. Reads the clock and calls
// the cancellation check, so loops call it every so many iterations, not on every one.
absl::Status CheckInterrupted();

}  // namespace tensord::runtime
