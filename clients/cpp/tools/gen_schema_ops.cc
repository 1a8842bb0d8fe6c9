// Build-time generator of the C++ client's op-schema data: the simple elementwise helpers and
// the typing tables of elementwise ops and reductions.
//
//   gen_schema_ops OP_SCHEMA_JSON OUT_HEADER OUT_SOURCE
//
// Reads the server's op schema (proto/tensord/v1/op_schema.json, which `tensord
// --print_op_schema` writes and the op_schema_is_current test keeps current) and writes:
//   OUT_HEADER  tensord/elementwise_ops.h: one helper per op whose typing is schema data
//               (OpSignature.typing: Sin, IntDiv, Add ...), commented with the op's doc and
//               dtype rule;
//   OUT_SOURCE  the typing table src/elementwise.h declares and the helpers, each a call of
//               Elementwise(name, inputs), which types the output by that table; and the table
//               src/reduction_typing.h declares: every reduction's output dtype rules
//               (OpSignature.reduction), by which the reduction helpers of ops.h and
//               ops_reduce.h type their outputs.
// So an op the server adds or retypes reaches the client with a rebuild, and the client restates
// no elementwise or reduction dtype rule. An op the generator cannot give a plain signature
// (optional inputs), or a reduction without outputs, fails the build rather than being skipped
// silently.
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tensord/v1/op_schema.pb.h"

namespace {

namespace v1 = ::tensord::v1;

// Helper names the C++ API had before it was generated, where the wire name is one word but the
// established C++ name is two (Theano's isnan is T.isnan; this API spells it IsNan).
const std::map<std::string, std::string> kNameOverrides = {{"isnan", "IsNan"}, {"isinf", "IsInf"}};

// The C++ helper of a wire name: int_div -> IntDiv, arctan2 -> Arctan2.
std::string HelperName(const std::string& op) {
  if (auto it = kNameOverrides.find(op); it != kNameOverrides.end()) return it->second;
  std::string out;
  bool start = true;
  for (char c : op) {
    if (c == '_') {
      start = true;
      continue;
    }
    out += start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    start = false;
  }
  return out;
}

bool IsIdentifier(const std::string& s) {
  if (s.empty() || !(std::islower(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// The parameters of a fixed-arity helper: the names of the doc's signature ("clip(x, lo, hi)
// ...") where it gives one per input, else a, b, c ...
std::vector<std::string> ParamNames(const v1::OpSignature& op) {
  std::vector<std::string> names;
  const std::string prefix = op.name() + "(";
  const std::string& doc = op.doc();
  const size_t close = doc.find(')');
  if (doc.rfind(prefix, 0) == 0 && close != std::string::npos) {
    std::stringstream list(doc.substr(prefix.size(), close - prefix.size()));
    for (std::string name; std::getline(list, name, ',');) {
      name.erase(0, name.find_first_not_of(' '));
      names.push_back(name);
    }
  }
  const std::set<std::string> unique(names.begin(), names.end());
  if (static_cast<int>(names.size()) == op.min_inputs() && unique.size() == names.size() &&
      std::all_of(names.begin(), names.end(), IsIdentifier)) {
    return names;
  }
  names.clear();
  for (int i = 0; i < op.min_inputs(); ++i) names.push_back(std::string(1, 'a' + i));
  return names;
}

// The helper's parameter list and the braced inputs it passes on.
struct Signature {
  std::string params;
  std::string inputs;
};

bool MakeSignature(const v1::OpSignature& op, Signature* out) {
  if (op.max_inputs() < 0) {
    *out = {"const std::vector<Var>& inputs", "inputs"};
    return true;
  }
  if (op.min_inputs() != op.max_inputs() || op.min_inputs() < 1 || op.min_inputs() > 26) {
    return false;
  }
  const std::vector<std::string> names = ParamNames(op);
  for (size_t i = 0; i < names.size(); ++i) {
    out->params += (i ? ", Var " : "Var ") + names[i];
    out->inputs += (i ? ", " : "") + names[i];
  }
  out->inputs = "{" + out->inputs + "}";
  return true;
}

// The typing in words, for the helper's comment.
std::string TypingText(const v1::OpSignature& op) {
  const v1::ElementwiseTyping& t = op.typing();
  std::string text = t.rule() == v1::DTYPE_RULE_UPGRADE_TO_FLOAT ? "upcast, then to float"
                     : t.rule() == v1::DTYPE_RULE_UPCAST_NO_BOOL ? "upcast, bool refused"
                                                                 : "upcast";
  if (t.condition_in()) text = "condition, then " + text + " of the others";
  if (t.accepts() == v1::DTYPE_CLASS_NOT_BOOL) text += "; numeric only";
  if (t.accepts() == v1::DTYPE_CLASS_INT_OR_BOOL) text += "; integers and bool only";
  if (t.bool_out()) text += "; bool out";
  if (op.max_inputs() < 0) {
    text += "; " + std::to_string(op.min_inputs()) + "+ inputs (given one, returns it)";
  }
  return text;
}

// A doc as comment lines (a doc may span lines).
std::string Commented(const std::string& doc) {
  std::string out = "// ";
  for (char c : doc) out += c == '\n' ? std::string("\n// ") : std::string(1, c);
  return out;
}

const char* const kBanner =
    "// Generated by clients/cpp/tools/gen_schema_ops.cc from proto/tensord/v1/op_schema.json"
    "\n// at build time. Do not edit: change the op on the server and regenerate the schema.\n";

std::string Header(const std::vector<const v1::OpSignature*>& ops,
                   const std::vector<Signature>& signatures) {
  std::ostringstream out;
  out << kBanner
      << "//\n"
         "// The simple elementwise helpers, one per op the schema types, named after its wire\n"
         "// name (int_div -> IntDiv); each calls Elementwise(name, inputs) of ops.h, which types\n"
         "// its output by the schema's rule. Include tensord/ops.h, not this.\n"
         "#ifndef TENSORD_CLIENT_ELEMENTWISE_OPS_H_\n#define TENSORD_CLIENT_ELEMENTWISE_OPS_H_\n\n"
         "#include <vector>\n\n#include \"tensord/graph.h\"\n\nnamespace tensord::client {\n";
  for (size_t i = 0; i < ops.size(); ++i) {
    out << "\n"
        << Commented(ops[i]->doc()) << "\n//   dtype: " << TypingText(*ops[i]) << "\nVar "
        << HelperName(ops[i]->name()) << "(" << signatures[i].params << ");\n";
  }
  out << "\n}  // namespace tensord::client\n\n#endif  // TENSORD_CLIENT_ELEMENTWISE_OPS_H_\n";
  return out.str();
}

// The reduction table: each reduction's ReducedDType per output, in output order.
std::string ReductionTable(const std::vector<const v1::OpSignature*>& reductions) {
  std::ostringstream out;
  out << "\nstd::span<const ReductionOp> ReductionOps() {\n";
  for (const v1::OpSignature* op : reductions) {
    out << "  static constexpr v1::ReducedDType k" << HelperName(op->name()) << "Outputs[] = {";
    for (int i = 0; i < op->reduction().outputs_size(); ++i) {
      out << (i ? ", v1::" : "v1::") << v1::ReducedDType_Name(op->reduction().outputs(i));
    }
    out << "};\n";
  }
  out << "  // name, the dtype rule of each output\n  static constexpr ReductionOp kOps[] = {\n";
  for (const v1::OpSignature* op : reductions) {
    out << "      {\"" << op->name() << "\", k" << HelperName(op->name()) << "Outputs},\n";
  }
  out << "  };\n  return kOps;\n}\n";
  return out.str();
}

std::string Source(const std::vector<const v1::OpSignature*>& ops,
                   const std::vector<Signature>& signatures,
                   const std::vector<const v1::OpSignature*>& reductions) {
  std::ostringstream out;
  out << kBanner
      << "#include \"tensord/elementwise_ops.h\"\n\n#include <span>\n\n"
         "#include \"src/elementwise.h\"\n#include \"src/reduction_typing.h\"\n"
         "#include \"tensord/ops.h\"\n\n"
         "namespace tensord::client {\nnamespace internal {\n\nnamespace v1 = ::tensord::v1;\n\n"
         "std::span<const ElementwiseOp> ElementwiseOps() {\n"
         "  // name, min_inputs, max_inputs, rule, accepts, bool_out, condition_in\n"
         "  static constexpr ElementwiseOp kOps[] = {\n";
  for (const v1::OpSignature* op : ops) {
    const v1::ElementwiseTyping& t = op->typing();
    out << "      {\"" << op->name() << "\", " << op->min_inputs() << ", " << op->max_inputs()
        << ", v1::" << v1::DTypeRule_Name(t.rule()) << ", v1::" << v1::DTypeClass_Name(t.accepts())
        << ", " << (t.bool_out() ? "true" : "false") << ", "
        << (t.condition_in() ? "true" : "false") << "},\n";
  }
  out << "  };\n  return kOps;\n}\n"
      << ReductionTable(reductions) << "\n}  // namespace internal\n";
  for (size_t i = 0; i < ops.size(); ++i) {
    out << "\nVar " << HelperName(ops[i]->name()) << "(" << signatures[i].params
        << ") {\n  return Elementwise(\"" << ops[i]->name() << "\", " << signatures[i].inputs
        << ");\n}\n";
  }
  out << "\n}  // namespace tensord::client\n";
  return out.str();
}

// The schema's ops that `selected` picks, sorted by name.
template <typename Predicate>
std::vector<const v1::OpSignature*> SortedByName(const v1::OpSchema& schema, Predicate selected) {
  std::vector<const v1::OpSignature*> ops;
  for (const v1::OpSignature& op : schema.ops()) {
    if (selected(op)) ops.push_back(&op);
  }
  std::sort(ops.begin(), ops.end(), [](const v1::OpSignature* a, const v1::OpSignature* b) {
    return a->name() < b->name();
  });
  return ops;
}

bool WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::cerr << "gen_schema_ops: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::cerr << "usage: gen_schema_ops OP_SCHEMA_JSON OUT_HEADER OUT_SOURCE\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  std::stringstream json;
  json << in.rdbuf();
  v1::OpSchema schema;
  if (!in || !google::protobuf::util::JsonStringToMessage(json.str(), &schema).ok()) {
    std::cerr << "gen_schema_ops: cannot read an OpSchema from " << argv[1] << "\n";
    return 1;
  }
  // The client finds rows by binary search.
  const std::vector<const v1::OpSignature*> ops =
      SortedByName(schema, [](const v1::OpSignature& op) { return op.has_typing(); });
  const std::vector<const v1::OpSignature*> reductions =
      SortedByName(schema, [](const v1::OpSignature& op) { return op.has_reduction(); });
  std::vector<Signature> signatures(ops.size());
  std::set<std::string> helpers;
  for (size_t i = 0; i < ops.size(); ++i) {
    const v1::OpSignature& op = *ops[i];
    if (op.typing().rule() == v1::DTYPE_RULE_UNSPECIFIED || !MakeSignature(op, &signatures[i]) ||
        !helpers.insert(HelperName(op.name())).second) {
      std::cerr << "gen_schema_ops: no plain helper for op '" << op.name()
                << "' (unspecified rule, optional inputs, or a name taken twice)\n";
      return 1;
    }
  }
  for (const v1::OpSignature* op : reductions) {
    if (op->reduction().outputs_size() == 0) {
      std::cerr << "gen_schema_ops: reduction '" << op->name() << "' types no output\n";
      return 1;
    }
  }
  if (ops.empty() || reductions.empty()) {
    std::cerr << "gen_schema_ops: " << argv[1] << " types no elementwise op or no reduction\n";
    return 1;
  }
  return WriteFile(argv[2], Header(ops, signatures)) &&
                 WriteFile(argv[3], Source(ops, signatures, reductions))
             ? 0
             : 1;
}
