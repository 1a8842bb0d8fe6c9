// The elementwise ops whose type rule is data in the server's op schema: the table generated
// from proto/tensord/v1/op_schema.json at build time (schema_ops.cc, written by
// tools/gen_schema_ops.cc) and the one interpreter of its rules. Every generated helper
// (Sin, Add, Gt ...) and the public Elementwise() type their output here, so the client states
// no elementwise dtype rule of its own.
#ifndef TENSORD_CLIENT_SRC_ELEMENTWISE_H_
#define TENSORD_CLIENT_SRC_ELEMENTWISE_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "tensord/graph.h"
#include "tensord/v1/op_schema.pb.h"

namespace tensord::client::internal {

// One op's OpSignature.typing, with its arity.
struct ElementwiseOp {
  const char* name;  // the wire name
  int min_inputs;
  int max_inputs;  // -1: any number
  ::tensord::v1::DTypeRule rule;
  ::tensord::v1::DTypeClass accepts;
  bool bool_out;
  bool condition_in;
};

// The generated table, sorted by name.
std::span<const ElementwiseOp> ElementwiseOps();

// The row of `name`; nullptr when the schema gives it no typing (or has no such op).
const ElementwiseOp* FindElementwiseOp(absl::string_view name);

// The output dtype of `op` for inputs of `dtypes`, as the server infers it: the promotion of the
// inputs (of all but a condition input), then the rule and the accepted class; an
// INVALID_ARGUMENT saying why when the op is not defined for them.
absl::StatusOr<DType> ElementwiseDType(const ElementwiseOp& op, const std::vector<DType>& dtypes);

}  // namespace tensord::client::internal

#endif  // TENSORD_CLIENT_SRC_ELEMENTWISE_H_
