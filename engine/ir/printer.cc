#include "engine/ir/printer.h"

#include <unordered_map>

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

}  // namespace

std::string DebugPrint(const Graph& graph) {
  std::unordered_map<const Variable*, int> ids;
  std::string out;
  struct Item {
    const Variable* var;
    std::string first;  // prefix of this line
    std::string rest;   // prefix of the lines below it
  };
  // Depth-first with an explicit stack (a long chain must not overflow the C++ stack).
  for (const Variable* output : graph.outputs()) {
    std::vector<Item> stack = {{output, "", ""}};
    while (!stack.empty() && out.size() < kMaxChars) {
      Item item = std::move(stack.back());
      stack.pop_back();
      const Variable* v = item.var;
      bool seen = ids.count(v) > 0;
      if (!seen) ids[v] = static_cast<int>(ids.size());
      std::string id = absl::StrCat("[id ", IdLabel(ids[v]), "]");
      if (v->owner == nullptr) {
        std::string label = v->source == Source::kConstant
                                ? absl::StrCat("TensorConstant{", v->DisplayName(), "}")
                                : v->DisplayName();
        absl::StrAppend(&out, item.first, label, " ", id, "\n");
        continue;
      }
      absl::StrAppend(&out, item.first, v->owner->op, " ", id, " '", v->name, "'",
                      seen ? " ..." : "", "\n");
      if (seen) continue;
      const auto& ins = v->owner->inputs;
      std::string rest =
          item.rest.size() < kMaxIndent ? item.rest : item.rest.substr(0, kMaxIndent);
      for (size_t i = ins.size(); i-- > 0;) {
        bool last = i + 1 == ins.size();
        stack.push_back({ins[i], rest + " |", rest + (last ? "  " : " |")});
      }
    }
  }
  if (out.size() >= kMaxChars) out += "... (truncated)\n";
  return out;
}

}  // namespace tensord::ir
