// Checks a device kernel leaves to the end of its run. An indexing kernel reports an index out of
// bounds through words on the device; reading them back after its launch would wait for the
// device at every such node (twice a cross-entropy step), so the kernel adds a check to its run's
// scope instead, and the run reads them all once its instructions are done, before anything is
// stored: a failing check fails the run as the node itself would have, in its words. A run that
// fails at a later node runs the checks first, so the earliest node's error is the one reported;
// so does a host node about to read a device's value (it waits for the device anyway), so that no
// host work runs on what a bad index left unwritten.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace tensord::runtime {

class DeferredChecks {
 public:
  // This thread's innermost scope while it lives (an executable's run; a scan's body run nests).
  DeferredChecks();
  ~DeferredChecks();
  DeferredChecks(const DeferredChecks&) = delete;
  DeferredChecks& operator=(const DeferredChecks&) = delete;

  // The thread's innermost scope, or null (a kernel run outside any checks at once).
  static DeferredChecks* Current();

  // The instruction whose kernel runs now: the checks it adds name it in their errors.
  void SetLabel(const std::string* label) { label_ = label; }

  void Add(std::function<absl::Status()> check);
  bool pending() const { return !checks_.empty(); }

  // Runs the checks in the order they were added, and forgets them: the first failure, as
  // "in <label>: <its message>", else OK.
  absl::Status RunAll();

 private:
  DeferredChecks* previous_;
  const std::string* label_ = nullptr;
  std::vector<std::pair<const std::string*, std::function<absl::Status()>>> checks_;
};

}  // namespace tensord::runtime
