#include "engine/ir/printer.h"

#include <unordered_map>

namespace tensord::ir {
namespace {

std::string IdLabel(int n) {
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('A' + n % 26));
    n = n / 26 - 1;
  } while (n >= 0);
  return s;
}

class Printer {
 public:
  std::string Print(const Graph& g) {
    for (const Variable* o : g.outputs()) Visit(o, "", "");
    return out_;
  }

 private:
  void Visit(const Variable* v, const std::string& first, const std::string& rest) {
    bool seen = ids_.count(v) > 0;
    if (!seen) ids_[v] = static_cast<int>(ids_.size());
    std::string id = absl::StrCat("[id ", IdLabel(ids_[v]), "]");
    if (v->owner == nullptr) {
      std::string label = v->source == Source::kConstant
                              ? absl::StrCat("TensorConstant{", v->DisplayName(), "}")
                              : v->DisplayName();
      absl::StrAppend(&out_, first, label, " ", id, "\n");
      return;
    }
    absl::StrAppend(&out_, first, v->owner->op, " ", id, " '", v->name, "'", seen ? " ..." : "",
                    "\n");
    if (seen) return;
    const auto& ins = v->owner->inputs;
    for (size_t i = 0; i < ins.size(); ++i) {
      bool last = i + 1 == ins.size();
      Visit(ins[i], rest + " |", rest + (last ? "  " : " |"));
    }
  }

  std::unordered_map<const Variable*, int> ids_;
  std::string out_;
};

}  // namespace

std::string DebugPrint(const Graph& graph) { return Printer().Print(graph); }

}  // namespace tensord::ir
