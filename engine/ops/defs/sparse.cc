// Declarations of the sparse-matrix ops (see sparse.h): types, gradients and shape rules.
#include "engine/ops/defs/sparse.h"

#include <string>

#include "engine/ops/defs/int_args.h"
#include "engine/ops/node_builder.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {

absl::StatusOr<SparseAttrs> GetSparseAttrs(const ir::Apply& node) {
  SparseAttrs a;
  TENSORD_ASSIGN_OR_RETURN(std::string format, ir::GetAttr<std::string>(node, "format"));
  if (format == "csr") {
    a.format = SparseFormat::kCsr;
  } else if (format == "csc") {
    a.format = SparseFormat::kCsc;
  } else {
    return InvalidArgument(node.op, ": format must be 'csr' or 'csc', got '", format.substr(0, 64),
                           "'");
  }
  if (node.attrs.count("transpose")) {
    TENSORD_ASSIGN_OR_RETURN(a.transpose, ir::GetAttr<bool>(node, "transpose"));
  }
  return a;
}

namespace {

using Types = absl::StatusOr<std::vector<ir::Type>>;
constexpr DType kI64 = DType::kInt64;

ir::Type Vector(DType d) { return ir::Type{d, {false}}; }
ir::Type Matrix(DType d) { return ir::Type{d, {false, false}}; }

// Index inputs (indices, indptr, shape ...) at `positions` are integer vectors.
absl::Status RequireIndexVectors(const ir::Apply& node, std::initializer_list<int> positions,
                                 std::initializer_list<const char*> names) {
  auto name = names.begin();
  for (int i : positions) {
    const std::string what = node.op + ": " + *name++;
    TENSORD_RETURN_IF_ERROR(RequireInt(node.inputs[i], 1, what.c_str()));
  }
  return absl::OkStatus();
}

// The format attribute and a pattern's (indices, indptr, shape) at inputs first .. first + 2.
absl::Status RequirePattern(const ir::Apply& node, int first) {
  TENSORD_RETURN_IF_ERROR(GetSparseAttrs(node).status());
  return RequireIndexVectors(node, {first, first + 1, first + 2}, {"indices", "indptr", "shape"});
}

// Values (data, dense operands) of rank `ndim`, numeric: a sparse boolean matrix has no use
// that a dense one would not serve, and sums of bools would need their own rules.
absl::Status RequireValues(const ir::Apply& node, int i, int ndim, const char* what) {
  const ir::Type& t = node.inputs[i]->type;
  if (t.ndim() != ndim || t.dtype == DType::kBool) {
    return InvalidArgument(node.op, ": ", what, " must be a numeric ",
                           ndim == 1 ? "vector" : "matrix", ", got ", ir::TypeString(t));
  }
  return absl::OkStatus();
}

ir::Attrs FormatOnly(const ir::Apply& node) {
  ir::Attrs attrs;
  attrs["format"] = node.attrs.at("format");
  return attrs;
}

// shape[i] of a sparse matrix's shape vector, as an int64 scalar (for shape rules).
ir::Variable* ShapeEntry(NodeBuilder& b, ir::Variable* shape, int64_t i) {
  ir::Attrs idx;
  idx["idx_list"] = std::vector<int64_t>{0, i, 0, 0};
  return b.Cast(b.Apply("subtensor", {shape}, idx), kI64);
}

// ---- sparse_dense_dot(data, indices, indptr, shape, y)

Types InferDenseDot(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 1));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 1, "data"));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 4, 2, "the dense operand"));
  return std::vector<ir::Type>{
      Matrix(Promote(node.inputs[0]->type.dtype, node.inputs[4]->type.dtype))};
}

// out = A y: dA[r, c] = gz[r] . y[c], dy = A.T gz. out = A.T y: dA[r, c] = y[r] . gz[c], dy = A gz.
Grads DenseDotGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  ir::Variable *data = node.inputs[0], *indices = node.inputs[1], *indptr = node.inputs[2],
               *shape = node.inputs[3], *y = node.inputs[4];
  const bool transpose = GetSparseAttrs(node)->transpose;
  ir::Variable* d_data = b.Apply(
      "sparse_sampled_dot", {indices, indptr, shape, transpose ? y : gz[0], transpose ? gz[0] : y},
      FormatOnly(node));
  ir::Attrs flipped = FormatOnly(node);
  flipped["transpose"] = !transpose;
  ir::Variable* d_y =
      b.Apply("sparse_dense_dot", {data, indices, indptr, shape, gz[0]}, std::move(flipped));
  return {d_data, nullptr, nullptr, nullptr, d_y};
}

std::vector<SymbolicShape> DenseDotShape(NodeBuilder& b, const ir::Apply& node,
                                         std::span<const SymbolicShape> in) {
  const bool transpose = GetSparseAttrs(node)->transpose;
  return {{ShapeEntry(b, node.inputs[3], transpose ? 1 : 0), in[4][1]}};
}

// ---- sparse_sampled_dot(indices, indptr, shape, a, b)

Types InferSampledDot(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 0));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 3, 2, "a"));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 4, 2, "b"));
  return std::vector<ir::Type>{
      Vector(Promote(node.inputs[3]->type.dtype, node.inputs[4]->type.dtype))};
}

// v[p] = a[r] . b[c] is linear in each: da = G b, db = G.T a, G the sparse matrix of g.
Grads SampledDotGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr, nullptr};
  ir::Variable *indices = node.inputs[0], *indptr = node.inputs[1], *shape = node.inputs[2];
  ir::Attrs plain = FormatOnly(node), transposed = FormatOnly(node);
  transposed["transpose"] = true;
  return {nullptr, nullptr, nullptr,
          b.Apply("sparse_dense_dot", {gz[0], indices, indptr, shape, node.inputs[4]}, plain),
          b.Apply("sparse_dense_dot", {gz[0], indices, indptr, shape, node.inputs[3]}, transposed)};
}

// ---- dense_from_sparse(data, indices, indptr, shape)

Types InferDenseFromSparse(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 1));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 1, "data"));
  return std::vector<ir::Type>{Matrix(node.inputs[0]->type.dtype)};
}

Grads DenseFromSparseGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr};
  return {b.Apply("sparse_gather", {gz[0], node.inputs[1], node.inputs[2], node.inputs[3]},
                  FormatOnly(node)),
          nullptr, nullptr, nullptr};
}

// ---- sparse_gather(y, indices, indptr, shape)

Types InferGather(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 1));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 2, "the dense operand"));
  return std::vector<ir::Type>{Vector(node.inputs[0]->type.dtype)};
}

// The scatter of g over the full shape; the grad driver sums it down to y's broadcastable dims.
Grads GatherGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr};
  return {b.Apply("dense_from_sparse", {gz[0], node.inputs[1], node.inputs[2], node.inputs[3]},
                  FormatOnly(node)),
          nullptr, nullptr, nullptr};
}

// ---- sparse_from_dense(x)

Types InferFromDense(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(GetSparseAttrs(node).status());
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 2, "x"));
  return std::vector<ir::Type>{Vector(node.inputs[0]->type.dtype), Vector(DType::kInt32),
                               Vector(DType::kInt32)};
}

// x's entries that were kept get their data's gradient, the others (zeros) none.
Grads FromDenseGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr};
  return {b.Apply("dense_from_sparse",
                  {gz[0], node.outputs[1], node.outputs[2], b.Shape(node.inputs[0])},
                  FormatOnly(node))};
}

// ---- sparse_values_at(data, indices, indptr, at_indices, at_indptr, shape)

Types InferValuesAt(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(GetSparseAttrs(node).status());
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 1, "data"));
  TENSORD_RETURN_IF_ERROR(RequireIndexVectors(
      node, {1, 2, 3, 4, 5}, {"indices", "indptr", "at_indices", "at_indptr", "shape"}));
  return std::vector<ir::Type>{Vector(node.inputs[0]->type.dtype)};
}

// out[q] sums the entries at q's position, so each entry's gradient sums the g of the `at`
// entries at its position: the same op with the two patterns swapped (duplicates included).
Grads ValuesAtGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr, nullptr, nullptr};
  return {b.Apply("sparse_values_at",
                  {gz[0], node.inputs[3], node.inputs[4], node.inputs[1], node.inputs[2],
                   node.inputs[5]},
                  FormatOnly(node)),
          nullptr,
          nullptr,
          nullptr,
          nullptr,
          nullptr};
}

// ---- sparse_union(indices_a, indptr_a, indices_b, indptr_b, shape)

Types InferUnion(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(GetSparseAttrs(node).status());
  TENSORD_RETURN_IF_ERROR(RequireIndexVectors(
      node, {0, 1, 2, 3, 4}, {"indices_a", "indptr_a", "indices_b", "indptr_b", "shape"}));
  return std::vector<ir::Type>{Vector(DType::kInt32), Vector(DType::kInt32)};
}

// ---- sparse_eliminate_zeros(data, indices, indptr, shape)

Types InferEliminateZeros(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 1));
  TENSORD_RETURN_IF_ERROR(RequireValues(node, 0, 1, "data"));
  return std::vector<ir::Type>{Vector(node.inputs[0]->type.dtype), Vector(DType::kInt32),
                               Vector(DType::kInt32)};
}

// The kept entries are data's nonzeros in order: their gradients go back to those positions
// (data[data != 0] += g), which stays right when entries repeat a position.
Grads EliminateZerosGrad(NodeBuilder& b, const ir::Apply& node, OutGrads gz) {
  if (gz[0] == nullptr) return {nullptr, nullptr, nullptr, nullptr};
  ir::Variable* data = node.inputs[0];
  ir::Attrs mask_index;
  mask_index["idx_list"] = std::vector<int64_t>{2, 0, 0, 0};
  ir::Variable* kept = b.Apply("neq", {data, b.Constant(0, data->type.dtype)});
  return {b.Apply("advanced_inc_subtensor", {b.ZerosLike(data, data->type.dtype), gz[0], kept},
                  mask_index),
          nullptr, nullptr, nullptr};
}

// ---- sparse_same_shape(shape_a, shape_b)

Types InferSameShape(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequireIndexVectors(node, {0, 1}, {"shape_a", "shape_b"}));
  return std::vector<ir::Type>{Vector(kI64)};
}

// ---- sparse_transpose_structure(indices, indptr, shape)

Types InferTransposeStructure(const ir::Apply& node) {
  TENSORD_RETURN_IF_ERROR(RequirePattern(node, 0));
  return std::vector<ir::Type>{Vector(DType::kInt32), Vector(DType::kInt32), Vector(kI64)};
}

std::vector<SymbolicShape> TransposeStructureShape(NodeBuilder& b, const ir::Apply& node,
                                                   std::span<const SymbolicShape> in) {
  // The other format's major dim is this one's minor: columns of a CSR matrix, rows of a CSC.
  const int minor = GetSparseAttrs(node)->format == SparseFormat::kCsr ? 1 : 0;
  ir::Variable* slices = b.Add(ShapeEntry(b, node.inputs[2], minor), b.Constant(1, kI64));
  return {{in[0][0]}, {slices}, {in[0][0]}};
}

// Input dtypes: values as the output's (or as they come), every index input int64.
InputDTypesFn IndexInputsAsInt64(std::vector<int> value_inputs, bool values_as_output) {
  return [value_inputs, values_as_output](const ir::Apply& node) {
    std::vector<std::optional<DType>> dtypes(node.inputs.size(), kI64);
    for (int i : value_inputs) {
      dtypes[i] =
          values_as_output ? std::optional<DType>(node.outputs[0]->type.dtype) : std::nullopt;
    }
    return dtypes;
  };
}

OpDef SparseDef(const char* name, int arity, const char* doc, InferTypesFn infer, GradFn grad,
                const char* theano_name, InputDTypesFn input_dtypes) {
  OpDef d = MakeOpDef(name, arity, arity, doc, std::move(infer), std::move(grad));
  d.attrs = {"format"};
  d.theano.name = theano_name;
  d.input_dtypes = std::move(input_dtypes);
  return d;
}

}  // namespace

void RegisterSparse(Registry& r) {
  OpDef dense_dot = SparseDef(
      "sparse_dense_dot", 5,
      "sparse_dense_dot(data, indices, indptr, shape, y; format, transpose): A @ y (A.T @ y "
      "when transpose) for the sparse matrix A the components give and a dense matrix y "
      "(Theano's structured_dot; scipy's A @ y)",
      InferDenseDot, DenseDotGrad, "StructuredDot", IndexInputsAsInt64({0, 4}, true));
  dense_dot.attrs.push_back("transpose");
  dense_dot.infer_shape = DenseDotShape;
  r.Add(std::move(dense_dot));

  OpDef sampled = SparseDef(
      "sparse_sampled_dot", 5,
      "sparse_sampled_dot(indices, indptr, shape, a, b; format): for each stored entry p at "
      "(r, c), a[r] . b[c] (the entries of a @ b.T at the pattern's positions: the structured "
      "gradient of sparse_dense_dot; Theano's sampling_dot)",
      InferSampledDot, SampledDotGrad, "SamplingDot", IndexInputsAsInt64({3, 4}, true));
  sampled.infer_shape = [](NodeBuilder&, const ir::Apply&, std::span<const SymbolicShape> in) {
    return std::vector<SymbolicShape>{{in[0][0]}};
  };
  r.Add(std::move(sampled));

  OpDef to_dense = SparseDef(
      "dense_from_sparse", 4,
      "dense_from_sparse(data, indices, indptr, shape; format): the dense matrix, entries at "
      "one position added (Theano's dense_from_sparse; scipy's toarray())",
      InferDenseFromSparse, DenseFromSparseGrad, "DenseFromSparse", IndexInputsAsInt64({0}, false));
  to_dense.infer_shape = [](NodeBuilder& b, const ir::Apply& node, auto) {
    return std::vector<SymbolicShape>{
        {ShapeEntry(b, node.inputs[3], 0), ShapeEntry(b, node.inputs[3], 1)}};
  };
  r.Add(std::move(to_dense));

  OpDef gather = SparseDef(
      "sparse_gather", 4,
      "sparse_gather(y, indices, indptr, shape; format): y[r, c] for each stored entry at (r, "
      "c), y a dense matrix of the sparse shape or broadcastable to it (the values a sparse * "
      "dense product multiplies)",
      InferGather, GatherGrad, "SparseGather", IndexInputsAsInt64({0}, false));
  gather.infer_shape = [](NodeBuilder&, const ir::Apply&, std::span<const SymbolicShape> in) {
    return std::vector<SymbolicShape>{{in[1][0]}};
  };
  r.Add(std::move(gather));

  OpDef from_dense = SparseDef(
      "sparse_from_dense", 1,
      "sparse_from_dense(x; format) -> (data, indices, indptr): the nonzeros of a dense matrix "
      "(NaN included) in row (csr) or column (csc) order, int32 indices (Theano's "
      "csr_from_dense / csc_from_dense)",
      InferFromDense, FromDenseGrad, "SparseFromDense", nullptr);
  r.Add(std::move(from_dense));

  OpDef values_at = SparseDef(
      "sparse_values_at", 6,
      "sparse_values_at(data, indices, indptr, at_indices, at_indptr, shape; format): the "
      "matrix's value at each entry of another pattern of the same shape and format (entries "
      "at one position added; 0 where it stores none)",
      InferValuesAt, ValuesAtGrad, "SparseValuesAt", IndexInputsAsInt64({0}, false));
  values_at.infer_shape = [](NodeBuilder&, const ir::Apply&, std::span<const SymbolicShape> in) {
    return std::vector<SymbolicShape>{{in[3][0]}};
  };
  r.Add(std::move(values_at));

  r.Add(SparseDef("sparse_union", 5,
                  "sparse_union(indices_a, indptr_a, indices_b, indptr_b, shape; format) -> "
                  "(indices, indptr): the positions either pattern stores, each once, sorted "
                  "within each row (csr) or column (csc)",
                  InferUnion, kNotDifferentiable, "SparseUnion", IndexInputsAsInt64({}, false)));

  r.Add(SparseDef("sparse_eliminate_zeros", 4,
                  "sparse_eliminate_zeros(data, indices, indptr, shape; format) -> (data, "
                  "indices, indptr): the same matrix without its stored zeros (scipy's "
                  "eliminate_zeros)",
                  InferEliminateZeros, EliminateZerosGrad, "EliminateZeros",
                  IndexInputsAsInt64({0}, false)));

  OpDef same_shape = MakeOpDef(
      "sparse_same_shape", 2, 2,
      "sparse_same_shape(shape_a, shape_b): shape_a, once checked equal to shape_b (two sparse "
      "operands of one elementwise op, as scipy refuses inconsistent shapes)",
      InferSameShape, kNotDifferentiable);
  same_shape.input_dtypes = IndexInputsAsInt64({}, false);
  same_shape.theano.name = "SparseSameShape";
  same_shape.infer_shape = [](NodeBuilder&, const ir::Apply&, std::span<const SymbolicShape> in) {
    return std::vector<SymbolicShape>{in[0]};
  };
  r.Add(std::move(same_shape));

  OpDef transpose = SparseDef(
      "sparse_transpose_structure", 3,
      "sparse_transpose_structure(indices, indptr, shape; format) -> (indices, indptr, perm): "
      "the pattern of the same matrix in the other format; its data is data[perm] (scipy's "
      "tocsc() / tocsr())",
      InferTransposeStructure, kNotDifferentiable, "SparseTransposeStructure",
      IndexInputsAsInt64({}, false));
  transpose.infer_shape = TransposeStructureShape;
  r.Add(std::move(transpose));
}

}  // namespace tensord::ops
