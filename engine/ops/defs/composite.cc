#include "engine/ops/defs/composite.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_replace.h"
#include "engine/ops/defs/shape_rules.h"
#include "engine/ops/register_all.h"

namespace tensord::ops {
namespace composite {
namespace {

// A printout is for people; a hostile program must not make the server build huge strings.
constexpr size_t kMaxExprChars = 2000;

}  // namespace

int Opcode(const std::string& name) {
  const OpDef* def = Registry::Global().Find(name);
  if (def == nullptr || def->FusionOpcode() < 0) {
    std::fprintf(stderr, "op '%s' has no composite opcode\n", name.c_str());
    std::abort();
  }
  return def->FusionOpcode();
}

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
  if (node.attrs.count("reduce")) {
    TENSORD_ASSIGN_OR_RETURN(p.reduce, ir::GetAttr<std::string>(node, "reduce"));
    if (p.reduce != "sum" && p.reduce != "mean" && p.reduce != "max" && p.reduce != "min") {
      return InvalidArgument("composite: 'reduce' must be 'sum', 'mean', 'max' or 'min', got '",
                             p.reduce.substr(0, 64), "'");
    }
  }
  if (node.inputs.size() > static_cast<size_t>(kMaxInputs)) {
    return InvalidArgument("composite: more than ", kMaxInputs, " inputs");
  }
  const bool of_product = node.op == "dot_composite";
  if (of_product && (node.inputs.size() < 2 || !p.reduce.empty())) {
    return InvalidArgument("dot_composite needs the product's two matrices and no 'reduce'");
  }
  p.num_inputs = static_cast<int>(node.inputs.size()) - (of_product ? 1 : 0);
  p.input_read.assign(p.num_inputs, false);
  for (size_t j = 0; j < ints.size() / 4; ++j) {
    const int64_t* w = &ints[4 * j];
    Instr ins;
    const OpDef* def = nullptr;
    if (w[0] != kConst) {
      def = w[0] > 0 && w[0] <= INT32_MAX ? Registry::Global().FindByOpcode(static_cast<int>(w[0]))
                                          : nullptr;
      if (def == nullptr) {
        return InvalidArgument("composite: instruction ", j, " has unknown opcode ", w[0]);
      }
    }
    ins.op = static_cast<int>(w[0]);
    const int arity = def != nullptr ? def->scalar->arity : 1;
    const int64_t defined = p.num_inputs + static_cast<int64_t>(j);  // registers so far
    for (int k = 0; k < 3; ++k) {
      const int64_t a = w[1 + k];
      bool used = k < arity;
      if (!used) {
        if (a != -1)
          return InvalidArgument("composite: instruction ", j, " argument ", k, " must be -1");
        continue;
      }
      if (ins.op == kConst) {
        if (a < 0 || a >= static_cast<int64_t>(p.constants.size())) {
          return InvalidArgument("composite: instruction ", j, " reads constant ", a, " of ",
                                 p.constants.size());
        }
      } else if (a < 0 || a >= defined) {
        return InvalidArgument("composite: instruction ", j, " (", def->name, ") reads register ",
                               a, " before it is defined");
      }
      ins.args[k] = static_cast<int32_t>(a);
      // A fill model is read for its shape only.
      bool shape_only = def != nullptr && def->name == "fill" && k == 0;
      if (ins.op != kConst && !shape_only && a < p.num_inputs) p.input_read[a] = true;
    }
    p.code.push_back(ins);
  }
  return p;
}

bool KeepsProductShape(const ir::Type& product, const ir::Type& input) {
  if (input.ndim() > 2) return false;
  for (int d = 0; d < input.ndim(); ++d)
    if (!input.broadcastable[d] && product.broadcastable[2 - input.ndim() + d]) return false;
  return true;
}

std::vector<int64_t> EncodeProgram(const std::vector<Instr>& code) {
  std::vector<int64_t> ints;
  ints.reserve(code.size() * 4);
  for (const Instr& ins : code) {
    ints.push_back(ins.op);
    for (int32_t a : ins.args) ints.push_back(a);
  }
  return ints;
}

std::string RenderExpr(const Program& p) {
  std::vector<std::string> reg;
  for (int i = 0; i < p.num_inputs; ++i) reg.push_back(absl::StrCat("i", i));
  for (const Instr& ins : p.code) {
    if (ins.op == kConst) {
      reg.push_back(absl::StrCat(p.constants[ins.args[0]]));
      continue;
    }
    const ScalarForm& form = *Registry::Global().FindByOpcode(ins.op)->scalar;
    std::string s =
        absl::StrReplaceAll(form.format, {{"$0", form.arity > 0 ? reg[ins.args[0]] : ""},
                                          {"$1", form.arity > 1 ? reg[ins.args[1]] : ""},
                                          {"$2", form.arity > 2 ? reg[ins.args[2]] : ""}});
    if (s.size() > kMaxExprChars) s = s.substr(0, kMaxExprChars) + "...";
    reg.push_back(std::move(s));
  }
  return absl::StrCat("Composite{", reg.back(), "}");
}

}  // namespace composite

namespace {

// Output: the program's dtype; NumPy broadcasting of every input (an output dim is broadcastable
// only where every input is), as InferElementwise; 0-d when the expression is reduced.
absl::StatusOr<std::vector<ir::Type>> InferComposite(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
  if (!p.reduce.empty()) return std::vector<ir::Type>{ir::Type{p.dtype, {}}};
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

// dot_composite: x and y matrices of the program's dtype; the output is the product's type
// broadcast with the other inputs', which must not enlarge it (2-d at most).
absl::StatusOr<std::vector<ir::Type>> InferDotComposite(const ir::Apply& node) {
  TENSORD_ASSIGN_OR_RETURN(composite::Program p, composite::ParseProgram(node));
  const ir::Type& x = node.inputs[0]->type;
  const ir::Type& y = node.inputs[1]->type;
  if (x.ndim() != 2 || y.ndim() != 2 || x.dtype != p.dtype || y.dtype != p.dtype) {
    return InvalidArgument("dot_composite: x and y must be ", DTypeName(p.dtype), " matrices, got ",
                           ir::TypeString(x), " and ", ir::TypeString(y));
  }
  ir::Type out{p.dtype, {x.broadcastable[0], y.broadcastable[1]}};
  for (size_t i = 2; i < node.inputs.size(); ++i) {
    if (!composite::KeepsProductShape(out, node.inputs[i]->type)) {
      return InvalidArgument("dot_composite: input ", i, " (", ir::TypeString(node.inputs[i]->type),
                             ") would broadcast the product (", ir::TypeString(out), ")");
    }
  }
  return std::vector<ir::Type>{out};
}

// The program's inputs in its dtype; for dot_composite x and y too (its input k > 1 is the
// program's input k - 1, the product being input 0).
std::vector<std::optional<DType>> CompositeInputDTypes(const ir::Apply& node) {
  std::vector<std::optional<DType>> wanted(node.inputs.size());
  absl::StatusOr<composite::Program> p = composite::ParseProgram(node);
  if (!p.ok()) return wanted;  // the kernel factory reports the error
  const bool of_product = node.op == "dot_composite";
  for (size_t k = 0; k < wanted.size(); ++k) {
    const bool read = of_product ? k < 2 || p->input_read[k - 1] : p->input_read[k];
    if (read) wanted[k] = p->dtype;
  }
  return wanted;
}

}  // namespace

void RegisterComposite(Registry& r) {
  OpDef d = MakeOpDef(
      "composite", 1, -1,
      "composite(*inputs; dtype, program, constants, expr, reduce): a fused elementwise "
      "expression evaluated in one pass (Theano's Elemwise{Composite{...}}), built by the "
      "fusion pass; with reduce ('sum', 'mean', 'max', 'min') its full reduction, never stored",
      // Fusion runs at compile time, after Differentiate built the gradient graph, so no
      // gradient ever flows through a composite the server made; one a client sends stops
      // gradients with a clear error, as any op without a rule.
      InferComposite, kNotDifferentiable);
  d.input_dtypes = CompositeInputDTypes;
  d.infer_shape = [](NodeBuilder& b, const ir::Apply& node, std::span<const SymbolicShape> in) {
    if (node.attrs.count("reduce")) return std::vector<SymbolicShape>{SymbolicShape{}};
    return BroadcastShape(b, node, in);
  };
  d.attrs = {"dtype", "program", "constants", "expr", "reduce"};
  d.theano_render = [](const ir::Apply& node, const std::string& inplace) {
    auto expr = ir::GetAttr<std::string>(node, "expr");
    const std::string shown = expr.ok() ? *expr : "Composite";
    if (auto reduce = ir::GetAttr<std::string>(node, "reduce"); reduce.ok()) {
      return absl::StrCat("CAReduce{", *reduce, ", ", shown, "}", inplace);  // PyTensor's name
    }
    return absl::StrCat("Elemwise{", shown, "}", inplace);
  };
  r.Add(std::move(d));

  OpDef e = MakeOpDef(
      "dot_composite", 2, -1,
      "dot_composite(x, y, *inputs; dtype, program, constants, expr): a composite whose input "
      "0 is the matrix product dot(x, y), computed block by block with the program applied to "
      "each block of rows right after it; made by the gemm_epilogue pass",
      InferDotComposite, kNotDifferentiable);  // made after Differentiate, as composite
  e.input_dtypes = CompositeInputDTypes;
  // The product's (rows, cols) broadcast with the other inputs (at run time one of length 1
  // may be broadcast, NumPy-style, as the kernel does).
  e.infer_shape = [](NodeBuilder& b, const ir::Apply& node, std::span<const SymbolicShape> in) {
    std::vector<SymbolicShape> shapes = {{in[0][0], in[1][1]}};
    std::vector<std::vector<bool>> broadcastable = {
        {node.inputs[0]->type.broadcastable[0], node.inputs[1]->type.broadcastable[1]}};
    for (size_t i = 2; i < node.inputs.size(); ++i) {
      shapes.push_back(in[i]);
      broadcastable.push_back(node.inputs[i]->type.broadcastable);
    }
    return std::vector<SymbolicShape>{BroadcastDims(b, shapes, broadcastable, 2)};
  };
  e.attrs = {"dtype", "program", "constants", "expr"};
  e.theano_render = [](const ir::Apply& node, const std::string& inplace) {
    auto expr = ir::GetAttr<std::string>(node, "expr");
    return absl::StrCat("DotComposite{", expr.ok() ? *expr : "Composite", "}", inplace);
  };
  r.Add(std::move(e));
}

}  // namespace tensord::ops
