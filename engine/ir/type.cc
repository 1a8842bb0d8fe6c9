#include "engine/ir/type.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace tensord::ir {

std::string TypeString(const Type& t) {
  const auto& b = t.broadcastable;
  std::string kind;
  if (b.empty()) {
    kind = "scalar";
  } else if (b == std::vector<bool>{false}) {
    kind = "vector";
  } else if (b == std::vector<bool>{false, false}) {
    kind = "matrix";
  } else if (b == std::vector<bool>{true, false}) {
    kind = "row";
  } else if (b == std::vector<bool>{false, true}) {
    kind = "col";
  } else {
    kind = absl::StrCat(
        "(",
        absl::StrJoin(b, ", ", [](std::string* out, bool v) { out->append(v ? "True" : "False"); }),
        b.size() == 1 ? ",)" : ")");
  }
  return absl::StrCat("TensorType(", DTypeName(t.dtype), ", ", kind, ")");
}

}  // namespace tensord::ir
