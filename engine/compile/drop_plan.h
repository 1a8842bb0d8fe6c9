// Theano's allow_gc for an executable: which slots each instruction leaves dead, so that a run
// drops their buffers as soon as their last reader has run and the allocator (the host's cache,
// a device's caching allocator) hands that memory to the nodes after it. A run's peak is then
// the bytes live at once, not the sum of every value it computes, and an idle executable holds
// no intermediate between runs.
#pragma once

#include <unordered_set>
#include <vector>

#include "engine/compile/executable.h"

namespace tensord::compile {

// Sets Instruction::drops: each slot an instruction computes, unless it is in `kept_slots`
// (inputs, shared values, constants, outputs, updates, ifelse conditions), is dropped after its
// last reader, or after its producer when nothing reads it. A view or an inplace output that
// still shares the buffer keeps it alive: dropping a slot only releases that slot's reference.
void PlanDrops(std::vector<Instruction>& instructions, const std::unordered_set<int>& kept_slots);

}  // namespace tensord::compile
