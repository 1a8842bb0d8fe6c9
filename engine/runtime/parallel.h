// Intra-op parallelism: a kernel splits one big loop into ranges that the calling thread and a
// fixed pool of workers run together. The caller takes ranges too, so a kernel called from any
// thread always makes progress, and concurrent runs share the pool without deadlock.
#pragma once

#include <cstdint>
#include <functional>

namespace tensord::runtime {

// Threads a ParallelFor uses at most, the caller's included (--intra_op_threads; 0 or less:
// one per core). Set before the first ParallelFor; 1 runs everything on the caller.
void SetIntraOpThreads(int threads);
int IntraOpThreads();

// Calls fn(begin, end) over [0, n) split into ranges whose sizes are multiples of `grain` (the
// last excepted), on up to IntraOpThreads() threads, and returns when all are done. With fewer
// than two grains of work, or when called from inside another ParallelFor, it is simply
// fn(0, n) on this thread. Ranges run in no particular order, charging what they allocate to
// the caller's memory context; if one throws, the others still finish and the first
// exception is rethrown here.
void ParallelFor(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

// Whether this thread is running ranges of a ParallelFor (where a kernel should not start
// threads of its own).
bool InParallelFor();

}  // namespace tensord::runtime
