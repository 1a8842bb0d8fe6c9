// Per-function profiles (function(..., profile=True)): accumulated across runs, thread-safe,
// reported by GetProfile in Theano's ProfileStats layout and as a Chrome trace of the last run.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/compile/executable.h"
#include "server/memory_profile.h"
#include "tensord/v1/compute.pb.h"

namespace tensord::server {

// Where a function's buffers live, for the memory profile.
struct MemoryProfileOptions {
  bool enabled = false;  // profile_memory
  std::string context;   // cpu, dev0, ...
  std::string device;    // cpu, cuda0, ...
};

class FunctionProfile {
 public:
  explicit FunctionProfile(size_t instructions, MemoryProfileOptions memory = {})
      : apply_ns_(instructions, 0), apply_calls_(instructions, 0), memory_(std::move(memory)) {}

  bool records_memory() const { return memory_.enabled; }
  // One successful run: its per-instruction trace and the server's time in the Run call. With
  // profile_memory, `exe` (the function's executable) interprets the trace's memory records.
  void Record(const compile::RunTrace& trace, int64_t call_ns,
              const compile::Executable* exe = nullptr);
  void Reset();
  // The structured fields, the summary text and the last run's Chrome trace.
  void Fill(const std::string& name, const compile::Executable& exe, int64_t client_call_ns,
            bool optimizer_profile, v1::GetProfileResponse* out) const;

 private:
  mutable std::mutex mu_;
  int64_t calls_ = 0;
  int64_t time_in_calls_ns_ = 0;
  int64_t time_in_thunks_ns_ = 0;
  std::vector<int64_t> apply_ns_;
  std::vector<int64_t> apply_calls_;
  compile::RunTrace last_;
  const MemoryProfileOptions memory_;
  RunMemory peak_;  // the most over the profiled runs
};

// Theano's class for an op name: "Elemwise{add,no_inplace}" -> "theano.tensor.elemwise.Elemwise".
std::string ProfileClassName(const std::string& op_name);
// ProfileStats.summary()'s text from GetProfile's fields; `client_call_ns` (0: none) is the
// client's wall time over its calls.
std::string ProfileSummary(const v1::GetProfileResponse& p, int64_t client_call_ns,
                           bool optimizer_profile = false);
// {"traceEvents":[{"name":..,"ph":"X","ts":us,"dur":us,"pid":1,"tid":1},...]}
std::string ChromeTrace(const compile::Executable& exe, const compile::RunTrace& trace);

}  // namespace tensord::server
