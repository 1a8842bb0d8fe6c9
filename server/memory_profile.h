// profile_memory: peak bytes of live buffers during a run, computed from the outputs the run
// recorded (compile::RunTrace), and Theano's "Memory Profile" section of the summary.
#pragma once

#include <cstdint>
#include <string>

#include "engine/compile/executable.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

struct RunMemory {
  // As the server ran the function: its intermediates dropped after their last reader, or, for
  // a function compiled with keep_intermediates, every buffer of the run (inputs, shared values,
  // outputs of their own) alive until the run ends. Constants belong to the executable and are
  // not counted.
  int64_t peak_bytes = 0;
  // The same if inplace outputs had buffers of their own (Theano's optimizer_excluding=inplace).
  int64_t peak_bytes_without_inplace = 0;
  // If each intermediate is dropped after its last reader (Theano's allow_gc=True): the largest
  // sum of live buffers right after an instruction ran.
  int64_t peak_bytes_with_gc = 0;
  // If every buffer of the run were kept until it ends (Theano's allow_gc=False).
  int64_t peak_bytes_without_gc = 0;
};

// `trace` must come from a run of `exe` with record_memory set.
RunMemory MeasureRunMemory(const compile::Executable& exe, const compile::RunTrace& trace);

// "[(2, 3), ()]" and "c i": an instruction's outputs as Theano's memory table prints them.
std::string OutputShapes(const std::vector<compile::OutputMemory>& outputs);
std::string OutputKinds(const std::vector<compile::OutputMemory>& outputs);

// The "Memory Profile" section from GetProfile's memory and per-apply output fields.
std::string MemorySummary(const v1::GetProfileResponse& p);

}  // namespace tensord::server
