#include "engine/compile/modes.h"

#include "engine/compile/debug_mode.h"
#include "engine/compile/nan_guard.h"

namespace tensord::compile {

absl::StatusOr<std::shared_ptr<Executable>> BuildExecutable(PreparedFunction prepared) {
  if (prepared.options.mode == "DebugMode") return BuildDebugModeExecutable(std::move(prepared));
  const bool nan_guard = prepared.options.mode == "NanGuardMode";
  const NanGuardOptions guard = prepared.options.nan_guard;
  TENSORD_ASSIGN_OR_RETURN(std::shared_ptr<Executable> exe,
                           BuildPlainExecutable(std::move(prepared)));
  if (nan_guard) {
    exe->SetOutputCheck([guard](const std::string& label, std::span<runtime::Tensor* const> out) {
      return CheckNanGuard(guard, label, out);
    });
  }
  return exe;
}

}  // namespace tensord::compile
