// Wire format <-> IR. Decoding validates everything a client could get wrong and names it.
#pragma once

#include <unordered_map>

#include "absl/types/span.h"
#include "engine/ir/graph.h"
#include "tensord/v1/graph.pb.h"
#include "tensord/v1/tensor.pb.h"

namespace tensord::ir {

// The one conversion of a wire dtype: INVALID_ARGUMENT for a value outside the enum (or
// DT_INVALID), UNIMPLEMENTED for a dtype with no kernels; `what` names the field.
absl::StatusOr<DType> DTypeFromProto(int value, absl::string_view what);

absl::StatusOr<runtime::Tensor> TensorFromProto(const v1::Tensor& proto);

// A client's tensor as the wire describes it: dtype (a v1::DType number) and shape checked, its
// C-order byte count computed without overflow. Check it before allocating, so that a few bytes
// of request cannot ask for a huge buffer.
struct WireLayout {
  DType dtype;
  runtime::Shape shape;
  size_t bytes;
};
absl::StatusOr<WireLayout> CheckWireLayout(int dtype, absl::Span<const int64_t> shape);
// What a client's elements must satisfy once copied in: bools are the bytes 0 or 1.
absl::Status CheckWireElements(const runtime::Tensor& tensor);
// The same checks and copy from elements held elsewhere (`dtype` a v1::DType number): a tensor
// of `shape` whose C-order elements are `data`.
absl::StatusOr<runtime::Tensor> TensorFromBytes(int dtype, absl::Span<const int64_t> shape,
                                                absl::string_view data);
void TensorToProto(const runtime::Tensor& tensor, v1::Tensor* proto);

void AttrToProto(const AttrValue& value, v1::AttrValue* proto);

absl::StatusOr<Type> TypeFromProto(const v1::TensorType& proto);
void TypeToProto(const Type& type, v1::TensorType* proto);

struct DecodedGraph {
  Graph graph;
  std::unordered_map<int64_t, Variable*> by_wire_id;

  absl::StatusOr<Variable*> Lookup(int64_t wire_id, const char* what) const;
};

// Decodes and type-checks a graph: ids unique and defined before use, every op known, the
// declared output types equal to the inferred ones.
absl::StatusOr<DecodedGraph> GraphFromProto(const v1::Graph& proto);

// Encodes a graph; variable ids are the IR ids.
void GraphToProto(const Graph& graph, v1::Graph* proto);

}  // namespace tensord::ir
