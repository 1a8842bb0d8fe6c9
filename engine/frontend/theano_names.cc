#include "engine/frontend/theano_names.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "engine/ops/op_def.h"

namespace tensord::ir {
namespace {

template <typename T>
const T* Attr(const Apply& node, const char* key) {
  auto it = node.attrs.find(key);
  return it == node.attrs.end() ? nullptr : std::get_if<T>(&it->second);
}

// "[(0, 0)]", Theano's rendering of a sorted inplace pattern.
std::string InplacePattern(const std::vector<std::pair<int, int>>& pairs) {
  std::vector<std::string> items;
  for (const auto& [o, i] : pairs) items.push_back(absl::StrCat("(", o, ", ", i, ")"));
  return absl::StrCat("[", absl::StrJoin(items, ", "), "]");
}

std::string AttrText(const AttrValue& v) {
  if (const auto* i = std::get_if<int64_t>(&v)) return absl::StrCat(*i);
  if (const auto* d = std::get_if<double>(&v)) return absl::StrCat(*d);
  if (const auto* s = std::get_if<std::string>(&v)) return s->size() <= 40 ? *s : "...";
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "True" : "False";
  if (const auto* t = std::get_if<DType>(&v)) return DTypeName(*t);
  if (const auto* is = std::get_if<std::vector<int64_t>>(&v)) {
    return is->size() <= 8 ? absl::StrCat("[", absl::StrJoin(*is, ", "), "]") : "[...]";
  }
  return "[...]";
}

// Shortest text that reads back as the same value of its dtype, NumPy-like ("2.0", "0.1", "nan").
template <typename T>
std::string FloatText(T v, bool in_array) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  std::string s(buf, ec == std::errc() ? end : buf);
  if (s.find_first_of(".e") == std::string::npos) s += in_array ? "." : ".0";
  return s;
}

std::string ElementText(const runtime::Tensor& t, int64_t i, bool in_array) {
  const char* p = static_cast<const char*>(t.raw());
  auto read = [&](auto tag) {
    using T = decltype(tag);
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
  };
  switch (t.dtype()) {
    case DType::kBool:
      return read(uint8_t{}) ? "True" : "False";
    case DType::kInt8:
      return absl::StrCat(read(int8_t{}));
    case DType::kInt16:
      return absl::StrCat(read(int16_t{}));
    case DType::kInt32:
      return absl::StrCat(read(int32_t{}));
    case DType::kInt64:
      return absl::StrCat(read(int64_t{}));
    case DType::kUInt8:
      return absl::StrCat(read(uint8_t{}));
    case DType::kUInt16:
      return absl::StrCat(read(uint16_t{}));
    case DType::kUInt32:
      return absl::StrCat(read(uint32_t{}));
    case DType::kUInt64:
      return absl::StrCat(read(uint64_t{}));
    case DType::kFloat32:
      return FloatText(read(float{}), in_array);
    case DType::kFloat64:
      return FloatText(read(double{}), in_array);
    default:
      return "?";
  }
}

// NumPy's str of an array: nested brackets, rows on new lines, long arrays summarized.
std::string ArrayText(const runtime::Tensor& t) {
  const runtime::Shape& shape = t.shape();
  const int64_t n = t.num_elements();
  if (n > 1000) {
    std::string s = "[";
    for (int64_t i = 0; i < 3; ++i) absl::StrAppend(&s, i ? " " : "", ElementText(t, i, true));
    absl::StrAppend(&s, " ...");
    for (int64_t i = n - 3; i < n; ++i) absl::StrAppend(&s, " ", ElementText(t, i, true));
    return s + "]";
  }
  std::string s;
  const int nd = t.ndim();
  std::vector<int64_t> index(nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    int opened = 0;  // dims starting at this element
    while (opened < nd && index[nd - 1 - opened] == 0) ++opened;
    if (i > 0) s += opened > 0 ? std::string(opened, '\n') + std::string(nd - opened, ' ') : " ";
    s += std::string(opened, '[') + ElementText(t, i, true);
    int closed = 0;
    for (int d = nd - 1; d >= 0; --d) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
      ++closed;
    }
    s += std::string(closed, ']');
  }
  return n == 0 ? std::string(nd, '[') + std::string(nd, ']') : s;
}

}  // namespace

std::vector<std::pair<int, int>> DestroyMap(const Apply& node) {
  std::vector<std::pair<int, int>> pairs;
  if (const auto* m = Attr<std::vector<int64_t>>(node, "destroy_map")) {
    for (size_t i = 0; i + 1 < m->size(); i += 2) pairs.emplace_back((*m)[i], (*m)[i + 1]);
  } else if (const auto* in = Attr<int64_t>(node, "inplace"); in != nullptr && *in >= 0) {
    pairs.emplace_back(0, static_cast<int>(*in));
  }
  std::sort(pairs.begin(), pairs.end());
  return pairs;
}

namespace {

// The op's own name, wherever it runs.
std::string HostOpName(const Apply& node) {
  const std::vector<std::pair<int, int>> destroyed = DestroyMap(node);
  const std::string inplace = destroyed.empty() ? "" : InplacePattern(destroyed);
  const ops::OpDef* def = node.def != nullptr ? node.def : ops::Registry::Global().Find(node.op);
  if (def != nullptr) {
    const ops::TheanoNames& theano = def->theano;
    if (def->theano_render) return def->theano_render(node, inplace);
    if (def->Has(ops::kTagElementwise) && !theano.name.empty()) {
      if (!inplace.empty()) return absl::StrCat("Elemwise{", theano.scalar, "}", inplace);
      return absl::StrCat("Elemwise{", theano.name, ",no_inplace}");
    }
    if (!theano.name.empty()) return theano.name + inplace;
  }
  std::vector<std::string> attrs;
  for (const auto& [key, value] : node.attrs) {
    if (key != "context") attrs.push_back(key + "=" + AttrText(value));  // printed as <gpuarray>
  }
  std::string name =
      attrs.empty() ? node.op : absl::StrCat(node.op, "{", absl::StrJoin(attrs, ", "), "}");
  return name + inplace;
}

}  // namespace

std::string TheanoOpName(const Apply& node) {
  std::string name = HostOpName(node);
  // A node placed on a device prints as Theano's gpuarray ops did: GpuElemwise{Sqr}<gpuarray>.
  if (node.op == "transfer" || !node.attrs.count("context")) return name;
  if (absl::StartsWith(name, "Elemwise")) name = "Gpu" + name;
  return name + "<gpuarray>";
}

std::string NodeArgs(const Apply& node, bool theano) {
  std::string s = "(";
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    const Variable* in = node.inputs[i];
    std::string text;
    if (in->source == Source::kConstant && in->name.empty()) {
      text = ConstantText(*in);
    } else if (theano && in->name.empty() && in->owner != nullptr) {
      text = absl::StrCat(TheanoOpName(*in->owner), ".", in->output_index);
    } else {
      text = in->DisplayName();
    }
    absl::StrAppend(&s, i ? ", " : "", text);
  }
  return s + ")";
}

std::string NodeLabel(const Apply& node) {
  std::string s = node.op;
  if (auto it = node.attrs.find("expr"); node.op == "composite" && it != node.attrs.end()) {
    if (const auto* expr = std::get_if<std::string>(&it->second)) s = *expr;
    // A reducing composite: "sum of Composite{...}", so an error names what failed.
    if (auto r = node.attrs.find("reduce"); r != node.attrs.end()) {
      if (const auto* reduce = std::get_if<std::string>(&r->second)) s = *reduce + " of " + s;
    }
  }
  return s + NodeArgs(node);
}

std::string ConstantText(const Variable& v) {
  const runtime::Tensor& t = v.constant;
  if (!t.buffer()) return v.DisplayName();
  // Serialized constants are contiguous; a view from constant folding may not be.
  if (!t.is_contiguous()) return absl::StrCat(runtime::ShapeString(t.shape()), " array");
  std::string text;
  const int64_t n = t.num_elements();
  bool unique = t.ndim() > 0 && n > 0;
  const size_t size = DTypeSize(t.dtype());
  const char* p = static_cast<const char*>(t.raw());
  for (int64_t i = 1; unique && i < n; ++i) unique = std::memcmp(p, p + i * size, size) == 0;
  if (t.ndim() == 0) {
    text = ElementText(t, 0, false);
  } else if (unique) {
    text = absl::StrCat(runtime::ShapeString(t.shape()), " of ", ElementText(t, 0, false));
  } else {
    text = ArrayText(t);
  }
  if (text.size() > 20) text = text.substr(0, 10) + ".." + text.substr(text.size() - 10);
  return text;
}

}  // namespace tensord::ir
