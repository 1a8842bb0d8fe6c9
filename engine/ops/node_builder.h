// Builds subgraphs for grad rules (OpDef::grad) and graph rewrites (engine/passes): each call
// appends a type-checked apply node to the graph and returns its output.
#pragma once

#include <string>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"

namespace tensord::ops {

// Errors are sticky instead of returned: a rule composes many calls, and a failure (always a
// bug in the rule, since its inputs are type-checked) would otherwise need a check per call.
// After the first failure every call returns null and status() says what failed.
class NodeBuilder {
 public:
  explicit NodeBuilder(ir::Graph& graph) : graph_(graph) {}

  const absl::Status& status() const { return status_; }
  ir::Graph& graph() { return graph_; }

  // Records `error` (if it is the first) and returns null: for a rule that finds its node
  // malformed, which type checking makes unreachable.
  ir::Variable* Fail(absl::Status error);

  // One apply of `op`; null inputs (after an earlier failure) give null.
  ir::Variable* Apply(const std::string& op, std::vector<ir::Variable*> inputs,
                      ir::Attrs attrs = {});
  using Bodies = std::vector<std::shared_ptr<const ir::Graph>>;
  std::vector<ir::Variable*> ApplyMulti(const std::string& op, std::vector<ir::Variable*> inputs,
                                        ir::Attrs attrs = {}, Bodies bodies = {});

  // A 0-d constant of `dtype` (named by its value when printed, as Theano's TensorConstant).
  ir::Variable* Constant(double value, DType dtype);
  // A 0-d constant in x's dtype when x is a float, else in float64: for scaling a gradient
  // without upcasting float32 graphs.
  ir::Variable* ConstantLike(double value, const ir::Variable* x);
  ir::Variable* IntVector(const std::vector<int64_t>& values);

  ir::Variable* Add(ir::Variable* a, ir::Variable* b) { return Apply("add", {a, b}); }
  ir::Variable* Sub(ir::Variable* a, ir::Variable* b) { return Apply("sub", {a, b}); }
  ir::Variable* Mul(ir::Variable* a, ir::Variable* b) { return Apply("mul", {a, b}); }
  ir::Variable* Div(ir::Variable* a, ir::Variable* b) { return Apply("true_div", {a, b}); }
  ir::Variable* Neg(ir::Variable* a) { return Apply("neg", {a}); }
  ir::Variable* Cast(ir::Variable* x, DType dtype);  // x itself when already of `dtype`
  // value broadcast to model's shape, in value's dtype (Theano's fill / second).
  ir::Variable* Fill(ir::Variable* model, ir::Variable* value) {
    return Apply("fill", {model, value});
  }
  // Zeros / ones shaped like x, in x's dtype if float else `float_dtype`.
  ir::Variable* ZerosLike(ir::Variable* x, DType float_dtype = DType::kFloat64);
  ir::Variable* OnesLike(ir::Variable* x, DType float_dtype = DType::kFloat64);
  // g summed down to x's shape over the dims broadcasting added (x's type, g's dtype): the
  // gradient of an elementwise input. Skipped only for 0-d x; any other dim may have been
  // broadcast at run time (NumPy broadcasts size-1 dims the type does not mark), and the
  // kernel returns a view when nothing was.
  ir::Variable* SumToLike(ir::Variable* g, ir::Variable* x);
  // grads[i] = SumToLike(grads[i], node.inputs[i]) for each non-null entry: the last step of
  // every elementwise rule with several inputs.
  std::vector<ir::Variable*> SumToInputs(const ir::Apply& node, std::vector<ir::Variable*> grads);
  ir::Variable* Sum(ir::Variable* x, const std::vector<int64_t>& axes);
  ir::Variable* Dimshuffle(ir::Variable* x, const std::vector<int64_t>& new_order);
  ir::Variable* Shape(ir::Variable* x) { return Apply("shape", {x}); }
  ir::Variable* ShapeI(ir::Variable* x, int64_t i);
  // x with size-1 dims inserted at `axes` of the result (positions in the output), the
  // inverse of reducing over them: the broadcastable input of a reduction's gradient.
  ir::Variable* ExpandDims(ir::Variable* x, const std::vector<int64_t>& axes, int out_ndim);
  // The attributes `node`'s op declares (OpDef::attrs), without the passes' marks (inplace,
  // context): what a grad rule copies onto a sibling op that takes the same attributes.
  static ir::Attrs DeclaredAttrs(const ir::Apply& node);
  ir::Variable* Switch(ir::Variable* c, ir::Variable* a, ir::Variable* b) {
    return Apply("switch", {c, a, b});
  }

 private:
  bool Failed(const std::vector<ir::Variable*>& inputs);

  ir::Graph& graph_;
  absl::Status status_;
};

}  // namespace tensord::ops
