#include "engine/ir/fingerprint.h"

#include <unordered_map>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace tensord::ir {

std::string AttrText(const AttrValue& value) {
  return std::visit(
      [](const auto& v) -> std::string {
        using V = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<V, std::string>) return absl::StrCat("s", v.size(), ":", v);
        if constexpr (std::is_same_v<V, bool>) return v ? "b1" : "b0";
        if constexpr (std::is_same_v<V, DType>) return absl::StrCat("t", DTypeName(v));
        if constexpr (std::is_same_v<V, int64_t>) return absl::StrCat("i", v);
        if constexpr (std::is_same_v<V, double>) return absl::StrFormat("f%a", v);
        if constexpr (std::is_same_v<V, std::vector<int64_t>>)
          return absl::StrCat("I[", absl::StrJoin(v, ","), "]");
        if constexpr (std::is_same_v<V, std::vector<double>>) {
          std::string s = "F[";
          for (double d : v) absl::StrAppendFormat(&s, "%a,", d);
          return s + "]";
        }
      },
      value);
}

std::string TypeText(const Type& t) {
  std::string s(DTypeName(t.dtype));
  s += "/";
  for (bool b : t.broadcastable) s += b ? '1' : '0';
  return s;
}

CanonicalForm Canonicalize(const Graph& graph,
                           const std::vector<std::pair<Variable*, Variable*>>& updates,
                           const std::string& extra) {
  CanonicalForm form;
  std::unordered_map<const Variable*, std::string> ref;
  std::string& key = form.key;
  for (size_t i = 0; i < graph.inputs().size(); ++i) {
    ref[graph.inputs()[i]] = absl::StrCat("i", i);
    absl::StrAppend(&key, "in ", TypeText(graph.inputs()[i]->type), "\n");
  }
  int constants = 0, values = 0;
  auto name_of = [&](const Variable* v) -> const std::string& {
    auto it = ref.find(v);
    if (it != ref.end()) return it->second;
    std::string& r = ref[v];
    if (v->source == Source::kShared) {
      r = absl::StrCat("s", form.shared.size());
      form.shared.push_back(v);
      absl::StrAppend(&key, "shared ", TypeText(v->type), "\n");
    } else if (v->source == Source::kConstant) {
      r = absl::StrCat("c", constants++);
      // Raw bytes, length-prefixed: exact, and half the size of hex.
      absl::StrAppend(
          &key, "const ", TypeText(v->type), " ", absl::StrJoin(v->constant.shape(), ","), " ",
          v->constant.num_bytes(), ":",
          absl::string_view(static_cast<const char*>(v->constant.raw()), v->constant.num_bytes()),
          "\n");
    } else {
      r = absl::StrCat("free", v->id);  // an unbound input; compilation refuses these later
    }
    return r;
  };
  for (const auto& a : graph.applies()) {
    std::vector<std::string> ins;
    for (const Variable* in : a->inputs) ins.push_back(name_of(in));
    std::vector<std::string> attrs;
    // Keys are length-prefixed like string values, so no key can imitate a key/value boundary.
    for (const auto& [k, v] : a->attrs) {
      attrs.push_back(absl::StrCat(k.size(), ":", k, "=", AttrText(v)));
    }
    std::vector<std::string> outs;
    for (const Variable* o : a->outputs) {
      ref[o] = absl::StrCat("v", values++);
      outs.push_back(absl::StrCat(ref[o], ":", TypeText(o->type)));
    }
    absl::StrAppend(&key, a->op, "{", absl::StrJoin(attrs, ";"), "}", BodiesText(*a), "(",
                    absl::StrJoin(ins, ","), ")->", absl::StrJoin(outs, ","), "\n");
  }
  std::vector<std::string> outs;
  for (const Variable* o : graph.outputs()) outs.push_back(name_of(o));
  absl::StrAppend(&key, "out ", absl::StrJoin(outs, ","), "\n");
  for (const auto& [var, value] : updates) {
    absl::StrAppend(&key, "update ", name_of(var), "<-", name_of(value), "\n");
  }
  absl::StrAppend(&key, extra);
  return form;
}

std::string BodiesText(const Apply& node) {
  std::string text;
  for (const auto& body : node.bodies) {
    const std::string key = Canonicalize(*body, {}, "").key;
    absl::StrAppend(&text, "body", key.size(), "{", key, "}");
  }
  return text;
}

std::string Digest(const std::string& key) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return absl::StrFormat("%016x", h);
}

}  // namespace tensord::ir
