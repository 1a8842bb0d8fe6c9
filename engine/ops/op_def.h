// One OpDef row per op: wire name, arity, type inference, grad rule, scalar form and the schema
// clients read. Kernels are the providers' (engine/backends/kernel.h), not the op's.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/common/status.h"
#include "engine/ir/graph.h"
#include "engine/ops/defs/type_rules.h"
#include "engine/ops/scalar_form.h"
#include "engine/runtime/tensor.h"

namespace tensord::ops {

class NodeBuilder;  // engine/ops/node_builder.h

using InferTypesFn = std::function<absl::StatusOr<std::vector<ir::Type>>(const ir::Apply&)>;
// For each input, the dtype its kernel wants (nullopt: take it as it is). The compiler inserts a
// cast where an input's dtype differs, so kernels are instantiated per dtype, not per pair.
using InputDTypesFn = std::function<std::vector<std::optional<DType>>(const ir::Apply&)>;

// Every input in the output's dtype (arithmetic: add, dot, sum ...).
std::vector<std::optional<DType>> AllInputsAsOutput(const ir::Apply& node);
// Every input in the NumPy promotion of all inputs (comparisons, whose output is bool).
std::vector<std::optional<DType>> AllInputsAsCommon(const ir::Apply& node);

// Builds the gradients of a node's inputs from the gradients of its outputs, as Theano's
// Op.grad / L_op. `output_grads` has one entry per output; null means no gradient reaches that
// output (treat it as zero). Returns one entry per input: its gradient, with the input's ndim
// (the driver casts it to the input's dtype and reduces it to its broadcastable pattern), or
// null where no gradient flows (integer inputs, indices, shapes). Nodes are built with `b`,
// which records the first failure; the driver checks b.status() after the rule returns.
using Grads = std::vector<ir::Variable*>;
using OutGrads = std::span<ir::Variable* const>;
using GradFn = std::function<Grads(NodeBuilder& b, const ir::Apply& node, OutGrads output_grads)>;
// A tensor's shape as int64 scalar variables, one per dim: shape_i nodes, constants, or
// expressions of them.
using SymbolicShape = std::vector<ir::Variable*>;
// Theano's infer_shape: every output's shape from the inputs' shapes (broadcastable dims are
// the constant 1), built with `b` without running the op. The shape_of pass answers shape(out)
// and shape_i(out) with it, so a graph that needs only a value's shape (zeros_like(f(x)), a
// gradient's reshape back) stops computing the value. An empty result: not known for this node
// (a target shape computed at run time); the declarations' shared rules are in
// defs/shape_rules.h.
using InferShapeFn = std::function<std::vector<SymbolicShape>(
    NodeBuilder& b, const ir::Apply& node, std::span<const SymbolicShape> input_shapes)>;

// What a declaration passes for an op whose outputs are discrete (comparisons, argmax, shapes):
// gradients reaching them stop there.
inline constexpr std::nullptr_t kNotDifferentiable = nullptr;

// What an op is, for passes and clients that ask by kind rather than by name.
enum OpTag : uint32_t {
  kTagElementwise = 1 << 0,  // NumPy broadcasting, one output of the broadcast shape
  kTagCommutative = 1 << 1,  // inputs may be reordered (add, mul, maximum, eq, and, ...)
  kTagReduction = 1 << 2,    // reduces over an `axis` attribute (sum, max, argmax, ...)
  kTagRandom = 1 << 3,       // draws from a random stream (its outputs are not constants)
};

// How Theano prints the op (debugprint, profiles). Elementwise ops: `name` while the node is not
// inplace ("Elemwise{add,no_inplace}"), `scalar` (Theano's scalar op class) once it is
// ("Elemwise{Add}[(0, 0)]"). Other ops: `name` as it is ("Alloc", "dot"), or
// OpDef::theano_render where the name shows the node's attributes. Neither: the wire name with
// the node's attributes.
struct TheanoNames {
  std::string name;
  std::string scalar;
};
// A print name from the node ("Sum{axis=[0], acc_dtype=float64}", "Reshape{2}"); `inplace` is
// Theano's rendering of the node's destroy map ("" or "[(0, 0)]").
using TheanoRenderFn =
    std::function<std::string(const ir::Apply& node, const std::string& inplace)>;

struct OpDef {
  std::string name;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number
  std::string doc;     // signature and NumPy equivalent, for docs/ops.md
  InferTypesFn infer_types;
  // The attributes the op takes (by name; each infer function checks its values). A node
  // carrying another is refused, naming it, so a misspelt or unsupported option ("axes" for
  // "axis") never passes silently. Any op may carry the inplace pass's `inplace` and
  // `destroy_map` and the placement pass's `context`.
  std::vector<std::string> attrs;
  // Null: kernels take inputs in whatever dtype they come.
  InputDTypesFn input_dtypes;
  // Named by the declaration (elementwise rules sit beside it in defs/, the structural
  // families' in grads/, scan's in engine/grad/). An op without one must say so with
  // differentiable = false (kNotDifferentiable): gradients reaching its outputs stop there.
  // The flag is what lets Registry::Add refuse a declaration that forgot both.
  GradFn grad;
  bool differentiable = true;
  // Elementwise ops: the type rule as data (exported in the op schema, so that clients infer
  // types exactly as the server does), the math as a scalar form (evaluated by the standalone
  // kernel and, where it has an opcode, by fused composites), and Theano's print names.
  std::optional<ElementwiseTyping> typing;
  // Reductions: their type rule as data (exported in the op schema too).
  std::optional<ReductionTyping> reduction;
  std::optional<ScalarForm> scalar;
  // Null: output shapes are known only by running the op (data-dependent sizes, scan, ...);
  // Registry.OpsWithoutShapeRule lists them.
  InferShapeFn infer_shape;
  TheanoNames theano;
  TheanoRenderFn theano_render;
  uint32_t tags = 0;  // OpTag bits
  bool Has(OpTag tag) const { return (tags & tag) != 0; }
  // The op's opcode in composite programs, or -1 when the fusion pass must leave it alone.
  int FusionOpcode() const { return scalar ? scalar->opcode : -1; }
  // Takes more inputs than its scalar form (add, mul): folded left, ((in0 op in1) op in2) ...
  bool FoldsLeft() const { return scalar && max_inputs != scalar->arity; }
  // Inner graphs the node carries in Apply::bodies (scan: its step function). Ops with bodies
  // have no provider kernel: the compiler builds their kernel, since running a body means
  // compiling it (engine/compile/scan_kernel.h).
  int num_bodies = 0;
  // Which outputs each input reaches, [input][output] (Theano's connection_pattern); null:
  // every input reaches every output. The grad driver uses it to tell which inputs a cost
  // depends on, so an input a scan's step never reads is disconnected, not given a zero.
  std::function<std::vector<std::vector<bool>>(const ir::Apply&)> connection_pattern;
};

// An OpDef row from its usual fields (input_dtypes left unset: inputs taken as they come);
// `grad` kNotDifferentiable makes it non-differentiable.
OpDef MakeOpDef(std::string name, int min_inputs, int max_inputs, std::string doc,
                InferTypesFn infer, GradFn grad);

class Registry {
 public:
  // The process-wide registry, filled by RegisterAll() on first use.
  static const Registry& Global();

  // Aborts on a second op of the same name, a taken composite opcode, or an op that has both
  // or neither of a grad rule and differentiable = false (programming errors caught by every
  // test that touches the registry).
  void Add(OpDef def);
  const OpDef* Find(const std::string& name) const;
  // The op whose scalar form has composite opcode `opcode`, or null.
  const OpDef* FindByOpcode(int opcode) const;
  std::vector<const OpDef*> All() const;

 private:
  std::vector<std::unique_ptr<OpDef>> defs_;
  std::unordered_map<std::string, const OpDef*> by_name_;
  std::vector<const OpDef*> by_opcode_;
};

// The op table of docs/ops.md, generated from the registry so it cannot drift.
std::string OpsMarkdown();

// Checks arity, infers output types and stores the OpDef on the node.
absl::Status ResolveAndInfer(ir::Apply& node, std::vector<ir::Type>* out_types);

}  // namespace tensord::ops
