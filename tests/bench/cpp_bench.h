// What the C++ client's benchmarks (tests/bench/*_bench.cc) share: medians, and ending the run
// on an error.
#pragma once

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "absl/status/status.h"

namespace tensord::bench {

inline double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Ends the benchmark (exit status 1) when `status` is an error, naming `what` failed.
inline void Check(const absl::Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  std::exit(1);
}

}  // namespace tensord::bench
