// The composite op: a fused elementwise expression evaluated in one pass over memory (Theano's
// Elemwise{Composite{...}}). The fusion pass (engine/passes/fusion.cc) builds them; the program
// format lives here so that the pass, the op's validation and the CPU kernel agree.
//
// Attributes:
//   dtype      float32 or float64: every scalar op computes in it and the output has it.
//   program    ints, four per instruction: opcode, then up to three argument registers (-1
//              where the op takes fewer). Registers 0..n-1 are the n inputs (read in `dtype`,
//              the compiler casts them); instruction j defines register n + j. The last
//              instruction's register is the output.
//   constants  floats (optional): kConst's argument indexes it; the value is taken in `dtype`.
//   expr       string (optional, for printing): "Composite{((i0 + i1) * i0)}".
//   reduce     string (optional): "sum", "mean", "max" or "min" of every element of the
//              expression,
//              which is then never stored: the output is 0-d (the fusion pass folds a full
//              reduction of a fused expression in; sums accumulate in float64, as sum's).
// Comparisons and predicates give 1 or 0 in `dtype`; switch's condition is true when nonzero
// (NaN included), as a cast to bool. The output's shape is the NumPy broadcast of every input.
//
// dot_composite(x, y, *inputs; dtype, program, constants, expr) is the same program with
// register 0 the matrix product dot(x, y) and registers 1.. the other inputs: the gemm_epilogue
// pass (engine/passes/gemm_epilogue.h) makes it from an elementwise expression of a product,
// and the kernel applies the program to each block of the product's rows right after the block
// is computed, on the same thread. Its inputs must not broadcast the product to a larger shape.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/dtype.h"
#include "engine/ir/graph.h"
#include "engine/ops/op_def.h"

namespace tensord::ops::composite {

// Opcodes are the `opcode` of each fusable op's declaration (OpDef::scalar), a fixed part of
// the wire format (a client may send a composite); 0 loads a constant.
constexpr int kConst = 0;

// Limits of one composite (the fusion pass keeps larger groups unfused): they bound the kernel's
// scratch space (a few KiB per input and live register) whatever a client sends.
constexpr int kMaxInputs = 1 << 12;
constexpr int kMaxInstructions = 1 << 14;

struct Instr {
  int op = kConst;  // Registry::FindByOpcode gives the op, whose scalar form evaluates it
  int32_t args[3] = {-1, -1, -1};
};

struct Program {
  DType dtype = DType::kFloat64;
  int num_inputs = 0;
  std::vector<Instr> code;
  std::vector<double> constants;
  std::string reduce;  // "" (elementwise), "sum", "mean", "max" or "min"
  // Per input: whether any instruction reads its values. An input only a fill model reads is
  // used for its shape alone, so the compiler need not cast it.
  std::vector<bool> input_read;
};

// Validates a composite node's attributes against its inputs (opcodes, arities, registers defined
// before use, constant indices); every failure is INVALID_ARGUMENT naming the problem. A
// dot_composite's program has one input fewer than its node (x and y make register 0).
absl::StatusOr<Program> ParseProgram(const ir::Apply& node);

// A dot_composite's input of type `input` keeps the product's shape (type `product`): 2-d at
// most and, along each dim, not longer where the product's type is broadcastable.
bool KeepsProductShape(const ir::Type& product, const ir::Type& input);

// The opcode of fusable op `name`; aborts on an op that has none (a programming error).
int Opcode(const std::string& name);

// The attribute encoding of `code`.
std::vector<int64_t> EncodeProgram(const std::vector<Instr>& code);

// Theano's name for the expression: "Composite{((i0 + i1) * i0)}". Shared subexpressions are
// repeated (as Theano does); very long renderings are cut.
std::string RenderExpr(const Program& program);

}  // namespace tensord::ops::composite
