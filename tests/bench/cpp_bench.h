// What the C++ benchmarks (tests/bench/*_bench.cc) share: medians, and ending the run on an
// error.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace tensord::bench {

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Ends the benchmark (exit status 1), saying why.
[[noreturn]] inline void Fail(const std::string& why) {
  std::fprintf(stderr, "%s\n", why.c_str());
  std::exit(1);
}

// Ends the benchmark (exit status 1) when `status` is an error, naming `what` failed.
inline void Check(const absl::Status& status, const char* what) {
  if (!status.ok()) Fail(std::string(what) + ": " + status.ToString());
}

}  // namespace tensord::bench
