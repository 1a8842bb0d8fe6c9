// Declaring an elementwise op: one ElementwiseSpec row names everything about it (wire name,
// arity, type rule, grad rule, Theano's print names, tags, fusion opcode) and its scalar functor
// (engine/ops/scalar/) gives its math. Every evaluator is derived from these two: the providers'
// broadcasting kernels and the composite interpreter run the functor's loops, the op schema
// exports the typing to clients, the printer and the passes read the names and tags.
#pragma once

#include <string>

#include "engine/ops/op_def.h"
#include "engine/ops/scalar_form.h"

namespace tensord::ops {

struct ElementwiseSpec {
  std::string name;
  int min_inputs = 1;
  int max_inputs = 1;  // -1: any number, folded left as add(a, b, c) = (a + b) + c
  std::string doc;     // signature and NumPy equivalent, for docs/ops.md
  ElementwiseTyping typing;
  TheanoNames theano;  // empty: Theano prints the wire name
  uint32_t tags = 0;   // OpTag bits beyond kTagElementwise
  int opcode = -1;     // composite opcode (a fixed wire number), -1 if not fusable
  std::string format;  // composite rendering, "($0 + $1)"
  GradFn grad;         // engine/ops/grads/; kNotDifferentiable for discrete outputs
};

// The OpDef of an elementwise op whose math is `form`.
OpDef ElementwiseOp(ElementwiseSpec spec, ScalarForm form);

// The OpDef of an elementwise op whose math is functor F taking `Arity` arguments.
template <class F, int Arity>
OpDef Elementwise(ElementwiseSpec spec) {
  return ElementwiseOp(std::move(spec), MakeScalarForm<F, Arity>());
}

// The common shapes of a declaration: a unary op, rendered "name($0)" in composites, and a
// binary one, "name($0, $1)" (opcode -1: not fusable).
template <class F>
OpDef UnaryOp(std::string name, std::string doc, ElementwiseTyping typing, TheanoNames theano,
              int opcode, GradFn grad) {
  std::string format = opcode < 0 ? "" : name + "($0)";
  return Elementwise<F, 1>({.name = std::move(name),
                            .doc = std::move(doc),
                            .typing = typing,
                            .theano = std::move(theano),
                            .opcode = opcode,
                            .format = std::move(format),
                            .grad = std::move(grad)});
}
template <class F>
OpDef BinaryOp(std::string name, std::string doc, ElementwiseTyping typing, TheanoNames theano,
               int opcode, GradFn grad, uint32_t tags = 0) {
  std::string format = opcode < 0 ? "" : name + "($0, $1)";
  return Elementwise<F, 2>({.name = std::move(name),
                            .min_inputs = 2,
                            .max_inputs = 2,
                            .doc = std::move(doc),
                            .typing = typing,
                            .theano = std::move(theano),
                            .tags = tags,
                            .opcode = opcode,
                            .format = std::move(format),
                            .grad = std::move(grad)});
}

}  // namespace tensord::ops
