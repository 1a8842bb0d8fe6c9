// backends::ValueMoves on the host's memory (and simulated devices', which is the host's).
#pragma once

#include "engine/backends/value_moves.h"

namespace tensord::cpu {

backends::ValueMoves& HostValueMoves();

}  // namespace tensord::cpu
