// The reductions whose output dtypes are data in the server's op schema (OpSignature.reduction):
// the table generated from proto/tensord/v1/op_schema.json at build time (schema_ops.cc, written
// by tools/gen_schema_ops.cc) and the one interpreter of its rules. Every reduction helper (Sum,
// Max, Prod, Mean, Argmax, MaxAndArgmax ...) types its outputs here, so the client states no
// reduction dtype rule of its own; the structure (axes, kept broadcastable dims) is inferred in
// ops_reduce.cc.
#ifndef TENSORD_CLIENT_SRC_REDUCTION_TYPING_H_
#define TENSORD_CLIENT_SRC_REDUCTION_TYPING_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tensord/graph.h"
#include "tensord/v1/op_schema.pb.h"

namespace tensord::client::internal {

// One op's OpSignature.reduction.
struct ReductionOp {
  const char* name;                                      // the wire name
  std::span<const ::tensord::v1::ReducedDType> outputs;  // one rule per output
};

// The generated table, sorted by name.
std::span<const ReductionOp> ReductionOps();

// The row of `name`; nullptr when the schema gives it no reduction typing (or has no such op).
const ReductionOp* FindReductionOp(absl::string_view name);

// The output dtypes of `op` on an input of `input`, as the server infers them. `dtype_attr` is
// the node's attribute `dtype` (DT_INVALID: none), which only accumulating outputs obey. An
// INVALID_ARGUMENT when a rule is one this client does not know.
absl::StatusOr<std::vector<DType>> ReducedDTypes(const ReductionOp& op, DType input,
                                                 DType dtype_attr);

}  // namespace tensord::client::internal

#endif  // TENSORD_CLIENT_SRC_REDUCTION_TYPING_H_
