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

// Per instruction, the slots it leaves dead, in slot order: each slot an instruction computes,
// unless it is in `kept_slots` (inputs, shared values, constants, outputs, updates, ifelse
// conditions), dies after its last reader, or after its producer when nothing reads it.
std::vector<std::vector<int>> DeadSlotsAfter(const std::vector<Instruction>& instructions,
                                             const std::unordered_set<int>& kept_slots);

// Sets each Instruction::drops to DeadSlotsAfter's. A view or an inplace output that still
// shares a dropped slot's buffer keeps it alive: dropping a slot only releases its reference.
void PlanDrops(std::vector<Instruction>& instructions, const std::unordered_set<int>& kept_slots);

}  // namespace tensord::compile
