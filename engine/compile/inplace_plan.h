// The executable's half of inplace (engine/passes/inplace.h): a node the pass marked writes its
// output into the buffer of a dead input instead of a buffer of its own.
//
// At build time a request stands only when the input's slot is a temporary: computed by an
// earlier instruction, read by no later one, and not an input, shared variable, constant,
// output or update slot. At run time the donation happens only when the input's tensor owns its
// buffer alone (no view, caller or shared value holds it), is contiguous from the buffer's start,
// and — for kernels that do not check aliasing themselves — already has the output's shape
// (every other input broadcasts into it). The input's tensor then moves into the output slot and
// the output slot's previous buffer into the input slot (a dead slot, whose producer reuses that
// buffer next run), and the kernel reads that input through the output slot.
#pragma once

#include <unordered_set>
#include <vector>

#include "engine/compile/executable.h"

namespace tensord::compile {

struct InplaceRequest {
  int input = -1;  // index into the node's inputs; -1: none
  // The kernel handles an output that is the same Tensor as an input of another shape itself
  // (composite, gemm); other kernels need the shapes checked first.
  bool kernel_checks_aliasing = false;
};

// What a node's `inplace` attribute asks for, if it fits the node (an index in range, one output
// of the input's dtype).
InplaceRequest RequestedInplace(const ir::Apply& node);

// Keeps the requests of `instructions` (Instruction::donate) whose slot is a temporary no later
// instruction reads and that is not in `protected_slots`; clears the others.
void PlanDonations(std::vector<Instruction>& instructions,
                   const std::unordered_set<int>& protected_slots);

// The run-time check. On success the donated tensor has moved into the output slot.
bool TryDonate(const Instruction& ins, std::vector<runtime::Tensor>& slots);

}  // namespace tensord::compile
