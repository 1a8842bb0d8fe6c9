// Reductions over some axes on the CUDA provider: which nodes are such reductions (sum, mean,
// prod, max and min of a float or integer value, all and any of any value, over an axis list, and
// sum_to_like, the gradient of a broadcast input), and how a run lays one out for
// CompositeReduceAxesSource's kernels. The layout is plain C++ over tensors, so tests check it
// without a GPU (the kernels on the host's CPU, emulation_testing.h).
#pragma once

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/backends/cuda/composite_source.h"
#include "engine/ir/graph.h"
#include "engine/ops/defs/composite.h"
#include "engine/runtime/tensor.h"

namespace tensord::cuda {

// A reduction node the device runs: its program (no instructions over its one input, a bare
// value; `reduce` the op's fold, "sum" for sum_to_like) and the dims it folds.
struct DeviceReduction {
  ops::composite::Program program;
  OperandTypes types;         // an input of another dtype than the output's: converted as read
  bool to_like = false;       // sum_to_like: the dims follow from the model's shape, per run
  std::vector<int64_t> axes;  // otherwise: the dims folded, from the node's `axis` (all if absent)
};

// `node` as a DeviceReduction; nullopt for any other node, and for one no kernel folds (float16,
// a float value into an integer result). An input of another dtype (the mean of a bool or int
// value, a float32 sum into float64, the int64 sum of a bool mask, all of a float value) is
// converted to the output's dtype as it is read, as the host's cast would convert it.
std::optional<DeviceReduction> AsDeviceReduction(const ir::Apply& node);

// Which dims of `value` a run folds: the reduction's axes; for sum_to_like the dims
// broadcasting added to reach the gradient's shape from the model's (`model`), as the host
// computes them, INVALID_ARGUMENT for a gradient that cannot come from the model.
absl::StatusOr<std::vector<bool>> ReducedDims(const DeviceReduction& reduction,
                                              const runtime::Shape& value,
                                              const runtime::Shape* model);

// One run of a reduction over some dims: the kernel's parameters over the value viewed as
// [kept dims..., reduced dims...], and the launch.
struct AxesReduction {
  std::vector<int64_t> params;  // CompositeParams of the view (provider.h)
  int rank = 0;                 // its merged rank
  int64_t outputs = 0;          // elements kept (the output's, C order)
  int64_t reduced = 0;          // elements folded into each
  bool by_block = false;        // <name>_by_block, else <name>_by_thread
  int64_t blocks = 0;
  int threads = 0;
};
absl::StatusOr<AxesReduction> PlanAxesReduction(const ops::composite::Program& program,
                                                const runtime::Tensor& value,
                                                const std::vector<bool>& reduced_dims);

}  // namespace tensord::cuda
