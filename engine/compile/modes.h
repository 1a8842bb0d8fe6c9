// Theano's compilation modes, applied above the executable builder: FAST_RUN / FAST_COMPILE
// build a plain executable; NanGuardMode adds a check of every instruction's float outputs
// (nan_guard.h); DebugMode builds the optimized and the unoptimized executable and compares
// every run (debug_mode.h). The executable itself knows no mode (executable.h's hooks).
#pragma once

#include <memory>

#include "engine/compile/compiler.h"

namespace tensord::compile {

absl::StatusOr<std::shared_ptr<Executable>> BuildExecutable(PreparedFunction prepared);

}  // namespace tensord::compile
