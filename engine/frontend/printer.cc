#include "engine/frontend/printer.h"

#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_split.h"
#include "engine/frontend/theano_names.h"

namespace tensord::ir {
namespace {

// Beyond these the text is cut: a printout is for people, and a hostile graph must not be
// able to make the server build gigabytes of it.
constexpr size_t kMaxChars = 1 << 20;
constexpr size_t kMaxIndent = 200;

std::string IdLabel(int n) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('A' + n % 26));
    n = n / 26 - 1;
  } while (n >= 0);
  return s;
}

std::vector<const Variable*> Roots(const Graph& graph, const PrintOptions& options) {
  std::vector<const Variable*> roots(graph.outputs().begin(), graph.outputs().end());
  roots.insert(roots.end(), options.extra_roots.begin(), options.extra_roots.end());
  return roots;
}

std::string LeafLabel(const Variable& v) {
  if (v.source == Source::kConstant) return absl::StrCat("TensorConstant{", ConstantText(v), "}");
  return v.DisplayName();
}

// A DOT double-quoted string.
std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out + "\"";
}

}  // namespace

std::string DebugPrint(const Graph& graph, const PrintOptions& options) {
  std::unordered_map<const void*, int> ids;  // applies and leaf variables
  std::unordered_map<const Apply*, size_t> order;
  if (options.print_order) {
    for (size_t i = 0; i < graph.applies().size(); ++i) order[graph.applies()[i].get()] = i;
  }
  auto id_of = [&](const void* key) {
    auto [it, inserted] = ids.emplace(key, static_cast<int>(ids.size()));
    return absl::StrCat("[id ", IdLabel(it->second), "]");
  };
  std::string out;
  struct Item {
    const Variable* var;
    std::string first;  // prefix of this line
    std::string rest;   // prefix of the lines below it
  };
  // Depth-first with an explicit stack (a long chain must not overflow the C++ stack).
  for (const Variable* root : Roots(graph, options)) {
    std::vector<Item> stack = {{root, "", ""}};
    while (!stack.empty() && out.size() < kMaxChars) {
      Item item = std::move(stack.back());
      stack.pop_back();
      const Variable* v = item.var;
      const Apply* a = v->owner;
      if (a == nullptr) {
        absl::StrAppend(&out, item.first, LeafLabel(*v), " ", id_of(v), "\n");
        continue;
      }
      const bool seen = ids.count(a) > 0;
      std::string index = a->outputs.size() > 1 ? absl::StrCat(".", v->output_index) : "";
      std::string position;
      if (auto it = order.find(a); it != order.end()) position = absl::StrCat(it->second);
      absl::StrAppend(&out, item.first, TheanoOpName(*a), index, " ", id_of(a), " '", v->name,
                      "'   ", position, "\n");
      if (seen) continue;
      std::string rest =
          item.rest.size() < kMaxIndent ? item.rest : item.rest.substr(0, kMaxIndent);
      for (size_t i = a->inputs.size(); i-- > 0;) {
        bool last = i + 1 == a->inputs.size();
        stack.push_back({a->inputs[i], rest + " |", rest + (last ? "  " : " |")});
      }
    }
  }
  if (out.size() >= kMaxChars) {
    out += "... (truncated)\n";
    return out;
  }
  // Theano's debugprint follows with the step functions, each line of them prefixed by " >".
  std::vector<const Apply*> with_bodies;
  for (const auto& a : graph.applies())
    if (!a->bodies.empty() && ids.count(a.get())) with_bodies.push_back(a.get());
  if (!with_bodies.empty()) out += "\nInner graphs of the scan ops:\n";
  for (const Apply* a : with_bodies) {
    absl::StrAppend(&out, "\n", TheanoOpName(*a), " ", id_of(a), " ''\n");
    for (const auto& body : a->bodies) {
      for (absl::string_view line : absl::StrSplit(DebugPrint(*body), '\n', absl::SkipEmpty()))
        absl::StrAppend(&out, " >", line, "\n");
    }
  }
  return out;
}

std::string DotPrint(const Graph& graph, const PrintOptions& options) {
  std::string out =
      "digraph G {\n  graph [bgcolor=\"#FFFFFF\"];\n  node [style=filled, fontsize=10];\n";
  std::unordered_set<const Variable*> outputs;
  for (const Variable* v : Roots(graph, options)) outputs.insert(v);
  std::unordered_set<const Variable*> drawn;
  auto var_node = [&](const Variable* v) {
    std::string name = absl::StrCat("v", v->id);
    if (!drawn.insert(v).second) return name;
    std::string label = v->source == Source::kConstant
                            ? absl::StrCat("val=", ConstantText(*v), " ", TypeString(v->type))
                        : v->name.empty() ? TypeString(v->type)
                                          : absl::StrCat(v->name, " ", TypeString(v->type));
    const char* color = outputs.count(v)                 ? "dodgerblue"
                        : v->source == Source::kInput    ? "limegreen"
                        : v->source == Source::kConstant ? "SpringGreen"
                        : v->source == Source::kShared   ? "cyan"
                                                         : "white";
    absl::StrAppend(&out, "  ", name, " [label=", Quote(label),
                    ", shape=ellipse, fillcolor=", color, "];\n");
    return name;
  };
  std::unordered_map<const Apply*, std::string> apply_name;
  for (size_t i = 0; i < graph.applies().size(); ++i)
    apply_name[graph.applies()[i].get()] = absl::StrCat("n", i);
  // Intermediate results are edges between applies, as in pydotprint; inputs, constants,
  // shared variables and outputs get their own nodes.
  auto source = [&](const Variable* v) {
    if (v->owner != nullptr && !outputs.count(v)) {
      if (auto it = apply_name.find(v->owner); it != apply_name.end()) return it->second;
    }
    return var_node(v);
  };
  for (size_t i = 0; i < graph.applies().size() && out.size() < kMaxChars; ++i) {
    const Apply& a = *graph.applies()[i];
    const std::string& name = apply_name[&a];
    std::string op = TheanoOpName(a);
    const char* color = op.rfind("Elemwise", 0) == 0    ? "#FFAABB"
                        : op.rfind("Subtensor", 0) == 0 ? "#FFAAFF"
                        : a.op == "alloc"               ? "#FFAA22"
                        : a.op == "shape"               ? "brown"
                        : a.op == "ifelse"              ? "magenta"
                                                        : "white";
    absl::StrAppend(&out, "  ", name, " [label=", Quote(op), ", shape=box, fillcolor=\"", color,
                    "\"];\n");
    for (size_t k = 0; k < a.inputs.size(); ++k) {
      std::string label = a.inputs.size() > 1 ? absl::StrCat(" [label=", k, "]") : "";
      absl::StrAppend(&out, "  ", source(a.inputs[k]), " -> ", name, label, ";\n");
    }
    for (const Variable* o : a.outputs) {
      if (outputs.count(o)) absl::StrAppend(&out, "  ", name, " -> ", var_node(o), ";\n");
    }
  }
  for (const Variable* v : Roots(graph, options)) var_node(v);  // inputs returned as outputs
  if (out.size() >= kMaxChars) out += "  truncated [label=\"... (truncated)\"];\n";
  return out + "}\n";
}

}  // namespace tensord::ir
