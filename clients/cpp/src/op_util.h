// Internal helpers shared by the op families (ops*.cc): input checks, the elementwise rule
// (rank padding + broadcasting), axis normalization and single-output applies.
#ifndef TENSORD_CLIENT_SRC_OP_UTIL_H_
#define TENSORD_CLIENT_SRC_OP_UTIL_H_

#include <algorithm>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tensord/graph.h"

namespace tensord::client::internal {

::tensord::v1::TensorType MakeType(DType dtype, const std::vector<bool>& broadcastable);

// The builder all `vars` should share; nullptr when every one is invalid (nothing to report to).
GraphBuilder* BuilderOf(const std::vector<Var>& vars);

// Returns the builder when `vars` are usable, after recording an error on it otherwise.
GraphBuilder* Check(absl::string_view op, const std::vector<Var>& vars);

// Records an INVALID_ARGUMENT "<op>: <message>" on `b` and returns an invalid Var.
Var Fail(GraphBuilder* b, absl::string_view op, absl::string_view message);

Var Single(GraphBuilder* b, std::string op, const std::vector<Var>& inputs, AttrMap attrs,
           DType dtype, const std::vector<bool>& broadcastable);

// The output dtype for the input dtypes, or an error saying why the op is not defined for them.
using DTypeRule = std::function<absl::StatusOr<DType>(const std::vector<DType>&)>;

// An elementwise apply: lower-rank inputs are padded on the left with broadcastable dims (a
// dimshuffle), the output is broadcastable where every input is, and `dtype_rule` types it
// (Elementwise() passes the schema's rule; fill and isclose, whose rules are code, their own).
Var Elemwise(std::string op, std::vector<Var> inputs, const DTypeRule& dtype_rule,
             AttrMap attrs = {});

// NumPy's result_type of all `dtypes` (arange's bounds, a stack's elements).
DType Promote(const std::vector<DType>& dtypes);

// The row named `name` of a generated op-schema table sorted by name (ElementwiseOps(),
// ReductionOps()); nullptr when the table has none.
template <typename Row>
const Row* FindByName(std::span<const Row> rows, absl::string_view name) {
  auto it = std::lower_bound(
      rows.begin(), rows.end(), name,
      [](const Row& row, absl::string_view n) { return absl::string_view(row.name) < n; });
  return it != rows.end() && absl::string_view(it->name) == name ? &*it : nullptr;
}

// Validates `axes` against rank `ndim` and returns them non-negative and sorted.
absl::StatusOr<std::vector<int64_t>> NormalizeAxes(absl::string_view op, std::vector<int64_t> axes,
                                                   int ndim);
// One axis, made non-negative.
absl::StatusOr<int64_t> NormalizeAxis(absl::string_view op, int64_t axis, int ndim);

// x's broadcastable pattern without the (sorted) `reduced` axes.
std::vector<bool> KeptBroadcastable(Var x, const std::vector<int64_t>& reduced);

// The value of an integer 0-d constant, if `v` is one.
std::optional<int64_t> ConstantInt(Var v);

// The apply that outputs `v` (nullptr for inputs, constants, shared variables).
const ::tensord::v1::Apply* ProducerOf(Var v);

}  // namespace tensord::client::internal

#endif  // TENSORD_CLIENT_SRC_OP_UTIL_H_
