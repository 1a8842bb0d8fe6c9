#include "engine/ops/defs/composite.h"

#include <algorithm>

#include "absl/strings/str_replace.h"
#include "engine/backends/cpu/composite_kernel.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace composite {
namespace {

// Indexed by ScalarOp. Formats follow Theano's Composite names (C-like infix, GT(...) for
// comparisons, Switch(...)).
constexpr ScalarOpInfo kInfo[] = {
    {"", 0, "", false},  // kConst
    {"add", 2, "($0 + $1)", false},
    {"sub", 2, "($0 - $1)", false},
    {"mul", 2, "($0 * $1)", false},
    {"true_div", 2, "($0 / $1)", false},
    {"pow", 2, "pow($0, $1)", false},
    {"neg", 1, "(-$0)", false},
    {"exp", 1, "exp($0)", false},
    {"log", 1, "log($0)", false},
    {"log1p", 1, "log1p($0)", false},
    {"expm1", 1, "expm1($0)", false},
    {"log2", 1, "log2($0)", false},
    {"log10", 1, "log10($0)", false},
    {"sqrt", 1, "sqrt($0)", false},
    {"sqr", 1, "sqr($0)", false},
    {"abs", 1, "abs($0)", false},
    {"sgn", 1, "sgn($0)", false},
    {"maximum", 2, "maximum($0, $1)", false},
    {"minimum", 2, "minimum($0, $1)", false},
    {"clip", 3, "clip($0, $1, $2)", false},
    {"tanh", 1, "tanh($0)", false},
    {"sigmoid", 1, "sigmoid($0)", false},
    {"softplus", 1, "softplus($0)", false},
    {"sin", 1, "sin($0)", false},
    {"cos", 1, "cos($0)", false},
    {"tan", 1, "tan($0)", false},
    {"arcsin", 1, "arcsin($0)", false},
    {"arccos", 1, "arccos($0)", false},
    {"arctan", 1, "arctan($0)", false},
    {"sinh", 1, "sinh($0)", false},
    {"cosh", 1, "cosh($0)", false},
    {"erf", 1, "erf($0)", false},
    {"erfc", 1, "erfc($0)", false},
    {"floor", 1, "floor($0)", false},
    {"ceil", 1, "ceil($0)", false},
    {"trunc", 1, "trunc($0)", false},
    {"round_half_to_even", 1, "round_half_to_even($0)", false},
    {"round_half_away_from_zero", 1, "round_half_away_from_zero($0)", false},
    {"arctan2", 2, "arctan2($0, $1)", false},
    {"switch", 3, "Switch($0, $1, $2)", false},
    {"gt", 2, "GT($0, $1)", true},
    {"lt", 2, "LT($0, $1)", true},
    {"ge", 2, "GE($0, $1)", true},
    {"le", 2, "LE($0, $1)", true},
    {"eq", 2, "EQ($0, $1)", true},
    {"neq", 2, "NEQ($0, $1)", true},
    {"isnan", 1, "isnan($0)", true},
    {"isinf", 1, "isinf($0)", true},
    {"fill", 2, "second($0, $1)", false},
};
static_assert(std::size(kInfo) == static_cast<size_t>(ScalarOp::kCount));

// A printout is for people; a hostile program must not make the server build huge strings.
constexpr size_t kMaxExprChars = 2000;

}  // namespace

const ScalarOpInfo& Info(ScalarOp op) { return kInfo[static_cast<int>(op)]; }

absl::StatusOr<Program> ParseProgram(const ir::Apply& node) {
  Program p;
  TENSORD_ASSIGN_OR_RETURN(p.dtype, ir::GetAttr<DType>(node, "dtype"));
  if (p.dtype != DType::kFloat32 && p.dtype != DType::kFloat64) {
    return InvalidArgument("composite computes in float32 or float64, not ",
                           IsValidDType(static_cast<int>(p.dtype)) ? DTypeName(p.dtype) : "?");
  }
  TENSORD_ASSIGN_OR_RETURN(std::vector<int64_t> ints, ir::GetIntsAttr(node, "program"));
  if (ints.empty() || ints.size() % 4 != 0) {
    return InvalidArgument(
        "composite: 'program' needs four ints per instruction and at least one "
        "instruction, got ",
        ints.size(), " ints");
  }
  if (static_cast<int64_t>(ints.size() / 4) > kMaxInstructions) {
    return InvalidArgument("composite: more than ", kMaxInstructions, " instructions");
  }
  if (auto it = node.attrs.find("constants"); it != node.attrs.end()) {
    if (const auto* v = std::get_if<std::vector<double>>(&it->second)) {
      p.constants = *v;
    } else if (const auto* d = std::get_if<double>(&it->second)) {
      p.constants = {*d};
    } else {
      return InvalidArgument("composite: 'constants' must be a list of floats");
    }
  }
  if (node.inputs.size() > static_cast<size_t>(kMaxInputs)) {
    return InvalidArgument("composite: more than ", kMaxInputs, " inputs");
  }
  p.num_inputs = static_cast<int>(node.inputs.size());
  p.input_read.assign(p.num_inputs, false);
  for (size_t j = 0; j < ints.size() / 4; ++j) {
    const int64_t* w = &ints[4 * j];
    if (w[0] < 0 || w[0] >= static_cast<int64_t>(ScalarOp::kCount)) {
      return InvalidArgument("composite: instruction ", j, " has unknown opcode ", w[0]);
    }
    Instr ins;
    ins.op = static_cast<ScalarOp>(w[0]);
    const ScalarOpInfo& info = Info(ins.op);
    const int64_t defined = p.num_inputs + static_cast<int64_t>(j);  // registers so far
    for (int k = 0; k < 3; ++k) {
      const int64_t a = w[1 + k];
      bool used = ins.op == ScalarOp::kConst ? k == 0 : k < info.arity;
      if (!used) {
        if (a != -1)
          return InvalidArgument("composite: instruction ", j, " argument ", k, " must be -1");
        continue;
      }
      if (ins.op == ScalarOp::kConst) {
        if (a < 0 || a >= static_cast<int64_t>(p.constants.size())) {
          return InvalidArgument("composite: instruction ", j, " reads constant ", a, " of ",
                                 p.constants.size());
        }
      } else if (a < 0 || a >= defined) {
        return InvalidArgument("composite: instruction ", j, " (", info.wire, ") reads register ",
                               a, " before it is defined");
      }
      ins.args[k] = static_cast<int32_t>(a);
      // A fill model is read for its shape only.
      bool shape_only = ins.op == ScalarOp::kFill && k == 0;
      if (ins.op != ScalarOp::kConst && !shape_only && a < p.num_inputs) p.input_read[a] = true;
    }
    p.code.push_back(ins);
  }
  return p;
}

std::vector<int64_t> EncodeProgram(const std::vector<Instr>& code) {
  std::vector<int64_t> ints;
  ints.reserve(code.size() * 4);
  for (const Instr& ins : code) {
    ints.push_back(static_cast<int64_t>(ins.op));
    for (int32_t a : ins.args) ints.push_back(a);
  }
  return ints;
}

std::string RenderExpr(const Program& p) {
  std::vector<std::string> reg;
  for (int i = 0; i < p.num_inputs; ++i) reg.push_back(absl::StrCat("i", i));
  for (const Instr& ins : p.code) {
    if (ins.op == ScalarOp::kConst) {
      reg.push_back(absl::StrCat(p.constants[ins.args[0]]));
      continue;
    }
    const ScalarOpInfo& info = Info(ins.op);
    std::string s =
        absl::StrReplaceAll(info.format, {{"$0", info.arity > 0 ? reg[ins.args[0]] : ""},
                                          {"$1", info.arity > 1 ? reg[ins.args[1]] : ""},
                                          {"$2", info.arity > 2 ? reg[ins.args[2]] : ""}});
    if (s.size() > kMaxExprChars) s = s.substr(0, kMaxExprChars) + "...";
    reg.push_back(std::move(s));
  }
  return absl::StrCat("Composite{", reg.back(), "}");
}

}  // namespace composite

namespace {

// Output: the program's dtype; NumPy broadcasting of every input (an output dim is broadcastable
// only where every input is), as InferElementwise.
absl::StatusOr<std::vector<ir::Type>> InferComposite(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
  int nd = 0;
  for (const ir::Variable* in : node.inputs) nd = std::max(nd, in->type.ndim());
  ir::Type out{p.dtype, std::vector<bool>(nd, true)};
  for (const ir::Variable* in : node.inputs) {
    int lead = nd - in->type.ndim();
    for (int d = 0; d < in->type.ndim(); ++d)
      if (!in->type.broadcastable[d]) out.broadcastable[lead + d] = false;
  }
  return std::vector<ir::Type>{out};
}

std::vector<std::optional<DType>> CompositeInputDTypes(const ir::Apply& node) {
  std::vector<std::optional<DType>> wanted(node.inputs.size());
  absl::StatusOr<composite::Program> p = composite::ParseProgram(node);
  if (!p.ok()) return wanted;  // the kernel factory reports the error
  for (size_t k = 0; k < wanted.size(); ++k)
    if (p->input_read[k]) wanted[k] = p->dtype;
  return wanted;
}

}  // namespace

void RegisterComposite(Registry& r) {
  OpDef d = MakeOpDef(
      "composite", 1, -1,
      "composite(*inputs; dtype, program, constants, expr): a fused elementwise expression "
      "evaluated in one pass (Theano's Elemwise{Composite{...}}), built by the fusion pass",
      InferComposite, [](const ir::Apply& node) -> absl::StatusOr<std::unique_ptr<Kernel>> {
        TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
        return cpu::MakeCompositeKernel(std::move(p));
      });
  d.input_dtypes = CompositeInputDTypes;
  // Fusion runs at compile time, after Differentiate built the gradient graph, so no gradient
  // ever flows through a composite the server made; one a client sends stops gradients with a
  // clear error, as any op without a rule.
  d.differentiable = false;
  r.Add(std::move(d));
}

void AttachScalarForms(Registry& r) {
  for (int op = 1; op < static_cast<int>(composite::ScalarOp::kCount); ++op) {
    r.SetScalarOpcode(composite::Info(static_cast<composite::ScalarOp>(op)).wire, op);
  }
}

}  // namespace tensord::ops
