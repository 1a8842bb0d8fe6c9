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
using GradFn = std::function<std::vector<ir::Variable*>(
    NodeBuilder& b, const ir::Apply& node, std::span<ir::Variable* const> output_grads)>;

// What an op is, for passes and clients that ask by kind rather than by name.
enum OpTag : uint32_t {
  kTagElementwise = 1 << 0,  // NumPy broadcasting, one output of the broadcast shape
  kTagCommutative = 1 << 1,  // inputs may be reordered (add, mul, maximum, eq, and, ...)
  kTagReduction = 1 << 2,    // reduces over an `axis` attribute (sum, max, argmax, ...)
  kTagRandom = 1 << 3,       // draws from a random stream (its outputs are not constants)
};

// How Theano prints an elementwise op: "Elemwise{add,no_inplace}", "Elemwise{Add}[(0, 0)]".
struct TheanoNames {
  std::string name;    // printed while the node is not inplace
  std::string scalar;  // Theano's scalar op class, printed once inplace
};

struct OpDef {
  std::string name;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number
  std::string doc;     // signature and NumPy equivalent, for docs/ops.md
  InferTypesFn infer_types;
  // Null: kernels take inputs in whatever dtype they come.
  InputDTypesFn input_dtypes;
  // Set by the grad families (engine/ops/grads/) when the registry is built. An op without
  // one must say so with differentiable = false: gradients reaching its outputs stop there
  // (its outputs are discrete: comparisons, argmax, shapes ...). A registry test checks that
  // every op has exactly one of the two.
  GradFn grad;
  bool differentiable = true;
  // Elementwise ops: the type rule as data (exported in the op schema, so that clients infer
  // types exactly as the server does), the math as a scalar form (evaluated by the standalone
  // kernel and, where it has an opcode, by fused composites), and Theano's print names.
  std::optional<ElementwiseTyping> typing;
  // Reductions: their type rule as data (exported in the op schema too).
  std::optional<ReductionTyping> reduction;
  std::optional<ScalarForm> scalar;
  TheanoNames theano;
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

// An OpDef row from its usual fields (input_dtypes left unset: inputs taken as they come).
OpDef MakeOpDef(std::string name, int min_inputs, int max_inputs, std::string doc,
                InferTypesFn infer, bool differentiable = true);

class Registry {
 public:
  // The process-wide registry, filled by RegisterAll() on first use.
  static const Registry& Global();

  void Add(OpDef def);
  // Attaches an op's grad rule; aborts on an unknown op or a second rule (a programming error
  // caught by every test that touches the registry).
  void SetGrad(const std::string& name, GradFn grad);
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
