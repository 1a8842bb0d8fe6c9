// Shared by the reduction and scan families (reductions*.cc, scans.cc): which axes an apply
// reduces, its output type, and how a kernel walks the input onto the output.
#pragma once

#include <vector>

#include "engine/ops/op_def.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

// The axes an apply reduces: attr `axis` (ints, negative allowed), absent meaning all of them.
// Out-of-range and repeated axes are refused here, so at compile time.
absl::StatusOr<std::vector<int64_t>> ReducedAxes(const ir::Apply& node);

// The output type of reducing input 0 over ReducedAxes(node), with the given dtype.
absl::StatusOr<ir::Type> ReducedType(const ir::Apply& node, DType dtype);

// Refuses dtypes no CPU kernel handles (float16), naming the op.
absl::Status CheckReducibleDType(const ir::Apply& node);

// Output types of a reduction node by its typing (CheckReducibleDType, then ReducedType per
// output).
absl::StatusOr<std::vector<ir::Type>> InferReduction(const ir::Apply& node,
                                                     const ReductionTyping& typing);

// Families registered from RegisterReductions, so register_all.h lists the family once.
void RegisterReductionStats(Registry& r);
void RegisterArgReductions(Registry& r);
void RegisterScans(Registry& r);

struct ScanAttrs {
  bool multiply = false;
  std::optional<int64_t> axis;  // normalized; nullopt: flattened
};

absl::StatusOr<ScanAttrs> ParseScanAttrs(const ir::Apply& node);

// A cumop's run: its input seen as (outer, len, inner) around the scanned axis (flattened:
// (1, n, 1)), in C order, and its output's shape.
struct CumopLayout {
  int64_t outer = 1, len = 1, inner = 1;
  runtime::Shape shape;
};
CumopLayout MakeCumopLayout(const ScanAttrs& attrs, const runtime::Shape& x);

enum class Moment { kMean, kVar, kStd };

// mean, var and std's attributes and the facts every provider's kernel shares.
struct MomentAttrs {
  std::vector<int64_t> axes;
  int64_t ddof = 0;
  bool corrected = false;  // Theano's: subtract (sum of deviations)^2 / n
  // NumPy's divisor over n elements: max(n - ddof, 0) (too few elements give inf, or NaN).
  double Divisor(int64_t n) const;
};
absl::StatusOr<MomentAttrs> GetMomentAttrs(const ir::Apply& node);
// A moment's result dtype: float32 for float32 values, float64 for every other.
DType MomentDType(DType value);

}  // namespace tensord::ops
